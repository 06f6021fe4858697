import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFerretDb } from './ferretdb.mjs';

/**
 * Starts one private FerretDB for the whole run on a free port with a throwaway data folder,
 * unless MONGODB_URI_TEST points at a database the caller runs. Each e2e file then uses its
 * own database on it (see app.ts).
 */
export default async function globalSetup() {
  if (process.env.MONGODB_URI_TEST) return;
  const dataDir = mkdtempSync(join(tmpdir(), 'guardhouse-test-'));
  const ferretDb = await startFerretDb(dataDir);
  globalThis.__FERRETDB__ = ferretDb;
  process.env.MONGODB_URI_TEST = ferretDb.uri;
}

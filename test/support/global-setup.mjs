import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { buildAccountPage } from '../../scripts/account-page.mjs';
import { startFerretDb } from './ferretdb.mjs';

/**
 * Starts one private FerretDB for the whole run on a free port with a throwaway data folder,
 * unless MONGODB_URI_TEST points at a database the caller runs. Each e2e file then uses its
 * own database on it (see app.ts).
 */
export default async function globalSetup() {
  // Where test/support/build.ts compiles the app when a test needs it (removed by teardown).
  process.env.GUARDHOUSE_TEST_BUILD = fileURLToPath(
    new URL(`../../.cache/test-build/${process.pid}-${Date.now()}`, import.meta.url),
  );
  // Query shapes recorded by query-recorder.ts for this run only (checked by the index test).
  const shapes = fileURLToPath(new URL('../../reports/query-shapes', import.meta.url));
  rmSync(shapes, { recursive: true, force: true });
  process.env.GUARDHOUSE_QUERY_SHAPES = shapes;
  // Audit events captured by audit-capture.ts for this run only (checked by the no-secrets walk).
  const events = fileURLToPath(new URL('../../reports/audit-events', import.meta.url));
  rmSync(events, { recursive: true, force: true });
  process.env.GUARDHOUSE_AUDIT_CAPTURE = events;
  // The account page's script bundle, fresh for this run (the page is served from src/).
  await buildAccountPage();
  if (process.env.MONGODB_URI_TEST) return;
  const dataDir = mkdtempSync(join(tmpdir(), 'guardhouse-test-'));
  const ferretDb = await startFerretDb(dataDir);
  globalThis.__FERRETDB__ = ferretDb;
  process.env.MONGODB_URI_TEST = ferretDb.uri;
}

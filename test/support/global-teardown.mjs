import { rmSync } from 'node:fs';

/** Stops the FerretDB started by global-setup.mjs and removes its data folder. */
export default async function globalTeardown() {
  const ferretDb = globalThis.__FERRETDB__;
  if (!ferretDb) return;
  await ferretDb.stop();
  rmSync(ferretDb.dataDir, { recursive: true, force: true });
}

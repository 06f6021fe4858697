import { rmSync } from 'node:fs';

/** Removes the compiled app, stops the FerretDB started by global-setup.mjs, removes its data. */
export default async function globalTeardown() {
  if (process.env.GUARDHOUSE_TEST_BUILD) {
    rmSync(process.env.GUARDHOUSE_TEST_BUILD, { recursive: true, force: true });
  }
  const ferretDb = globalThis.__FERRETDB__;
  if (!ferretDb) return;
  await ferretDb.stop();
  rmSync(ferretDb.dataDir, { recursive: true, force: true });
}

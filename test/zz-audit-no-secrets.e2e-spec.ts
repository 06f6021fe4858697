import mongoose from 'mongoose';

import { capturedEvents } from './support/audit-capture.js';
import type { SecretFinding } from './support/secret-shapes.js';
import { findSecrets, passwordsInTests } from './support/secret-shapes.js';

/**
 * Runs after every other e2e file (test/support/sequencer.mjs): no audit event of the whole run
 * may hold anything that looks like a secret (test/support/secret-shapes.ts: tokens, hashes,
 * codes, the tests' passwords). Two views of the same events: what every app of the run sent to
 * the database (captured by test/support/audit-capture.ts, private FerretDB servers included),
 * and what is stored in `audit_events` of every database on the run's shared FerretDB (apps in
 * child processes included).
 */
interface Finding extends SecretFinding {
  type: unknown;
  where: string;
}

const passwords = passwordsInTests();

const check = (event: Record<string, unknown>, where: string): Finding[] =>
  findSecrets(event, passwords).map((finding) => ({ ...finding, type: event.type, where }));

describe('no secret in any audit event of this run', () => {
  it('finds none in the events the apps of this run sent to the database', () => {
    const captured = capturedEvents();
    // Every e2e file signs users up and logs them in: a run without these recorded nothing.
    const types = captured.map(({ event }) => event.type);
    expect(types).toEqual(expect.arrayContaining(['user.signed_up', 'login.succeeded']));
    expect(captured.flatMap(({ event, seenIn }) => check(event, seenIn))).toEqual([]);
  });

  it('finds none in the audit_events stored on the shared database server', async () => {
    const uri = process.env.MONGODB_URI_TEST;
    if (!uri) throw new Error('MONGODB_URI_TEST is not set: run tests through jest');
    const connection = await mongoose.createConnection(uri).asPromise();
    try {
      const { databases } = await connection.db!.admin().listDatabases();
      let stored = 0;
      const findings: Finding[] = [];
      for (const { name } of databases) {
        const docs = await connection.useDb(name).collection('audit_events').find().toArray();
        stored += docs.length;
        for (const doc of docs) {
          const event = JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
          findings.push(...check(event, name));
        }
      }
      expect(stored).toBeGreaterThan(0);
      expect(findings).toEqual([]);
    } finally {
      await connection.close();
    }
    // Reads every database of the run (about 90 test files' worth): slow on FerretDB under load.
  }, 180_000);
});

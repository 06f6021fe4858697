import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import request from 'supertest';

import { AuditRecorder, byAnonymous } from '../src/auth/index.js';
import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';
import { connectionOf } from './support/db.js';
import type { FerretDb } from './support/ferretdb.mjs';
import { startFerretDb } from './support/ferretdb.mjs';
import type { TestUser } from './support/users.js';
import { loginAdmin } from './support/users.js';
import { pollUntil } from './support/wait.js';

const BUFFER = 40;

// Its own FerretDB, because the test stops and restarts the server while events are recorded.
// Requests need the database too, so the events come straight from the recorder (as a feature's
// would after the database part of its work succeeded).
describe('audit trail during a database outage', () => {
  let dataDir: string;
  let db: FerretDb;
  let t: TestApp;
  let admin: TestUser;
  let recorder: AuditRecorder;
  const logOutput: string[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'guardhouse-audit-'));
    db = await startFerretDb(dataDir);
    t = await createTestApp({
      mongoUri: `${db.uri}/audit_outage`,
      env: {
        AUDIT_FLUSH_INTERVAL_MS: '50',
        AUDIT_BUFFER_SIZE: String(BUFFER),
        MONGODB_SERVER_SELECTION_TIMEOUT_MS: '500',
        LOG_LEVEL: 'info',
      },
      logDestination: { write: (line: string) => void logOutput.push(line) },
    });
    admin = await loginAdmin(t.app);
    recorder = t.app.get(AuditRecorder);
  });

  afterAll(async () => {
    await t.close();
    await db.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const messages = (): string[] =>
    logOutput
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => String((JSON.parse(line) as { msg?: unknown }).msg));

  const health = async () => {
    const res = await request(t.app.getHttpServer()).get('/api/health');
    return { status: res.status, audit: res.body.details?.audit as Record<string, unknown> };
  };

  /** `count` failed logins of unknown addresses `<label>-<i>@example.com`, recorded now. */
  const emit = (label: string, count: number): void => {
    for (let i = 0; i < count; i++) {
      recorder.record(
        'login.failed',
        { reason: 'unknown_account', email: `${label}-${i}@example.com` },
        byAnonymous(null, { ip: '198.51.100.7', userAgent: 'OutageTest' }),
      );
    }
  };

  const storedEmails = async (label: string): Promise<string[]> => {
    const docs = await connectionOf(t.app)
      .collection('audit_events')
      .find({ 'detail.email': { $regex: `^${label}-` } })
      .toArray();
    return docs.map((doc) => (doc.detail as { email: string }).email);
  };

  const restart = async (): Promise<void> => {
    db = await startFerretDb(dataDir, db.port);
  };

  /** The buffer is written out: health says 0 waiting. */
  const drained = () =>
    pollUntil(health, (h) => h.status === 200 && h.audit?.buffered === 0, {
      timeoutMs: 40_000,
      intervalMs: 200,
    });

  it('keeps every event while the database is away and stores each once when it is back', async () => {
    await drained();
    const failuresBefore = messages().filter((m) =>
      m.startsWith('Audit events not written'),
    ).length;
    await db.stop();
    emit('outage', 30);
    // The writer really tried and failed meanwhile (and the events are still waiting).
    const failing = await pollUntil(
      () => Promise.resolve(messages().filter((m) => m.startsWith('Audit events not written'))),
      (lines) => lines.length > failuresBefore,
      { timeoutMs: 10_000 },
    );
    expect(failing.length).toBeGreaterThan(failuresBefore);
    const down = await health();
    expect(down).toEqual({ status: 503, audit: { status: 'up', buffered: 30, dropped: 0 } });

    await restart();
    const after = await drained();
    expect(after.audit).toEqual({ status: 'up', buffered: 0, dropped: 0 });
    const stored = await storedEmails('outage');
    expect(stored.sort()).toEqual(
      Array.from({ length: 30 }, (_, i) => `outage-${i}@example.com`).sort(),
    );
    expect(messages()).toContainEqual(expect.stringMatching(/^Audit events written again after/));

    // And through the API, as an admin reads them.
    const res = await request(t.app.getHttpServer())
      .get('/api/audit-events?type=login.failed&actor=anonymous&limit=100')
      .set(admin.auth)
      .expect(200);
    const emails = res.body.items.map((e: { detail: { email: string } }) => e.detail.email);
    expect(emails.filter((e: string) => e.startsWith('outage-'))).toHaveLength(30);
  }, 90_000);

  it('drops the newest events beyond the buffer, and counts them in a log line and /api/health', async () => {
    await drained();
    await db.stop();
    emit('overflow', BUFFER + 15);
    const down = await health();
    expect(down).toEqual({ status: 503, audit: { status: 'up', buffered: BUFFER, dropped: 15 } });
    expect(messages()).toContain(
      `Audit buffer full (${BUFFER} events): new events are dropped until writes succeed`,
    );

    await restart();
    const after = await drained();
    expect(after.audit).toEqual({ status: 'up', buffered: 0, dropped: 15 });
    // The first BUFFER were kept (older evidence is never pushed out by newer events).
    expect((await storedEmails('overflow')).sort()).toEqual(
      Array.from({ length: BUFFER }, (_, i) => `overflow-${i}@example.com`).sort(),
    );
    expect(messages()).toContain(
      '15 audit events were dropped while the buffer was full (15 since start)',
    );
  }, 90_000);
});

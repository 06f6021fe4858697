import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

import mongoose from 'mongoose';
import request from 'supertest';

import { testDatabaseUri } from './support/app.js';
import { compiledApp } from './support/build.js';
import { freePort } from './support/ferretdb.mjs';
import { STRONG_PASSWORD } from './support/users.js';

// SIGTERM ends a real process (graceful shutdown ends in process.exit), so this runs the compiled
// `main.js`. Its flush interval outlives the test: whatever is stored was written by the drain.
describe('audit events at shutdown (SIGTERM)', () => {
  const mongoUri = testDatabaseUri('audit_sigterm');
  let server: ChildProcess;
  let base: string;
  let output = '';
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  let db: mongoose.Connection;

  beforeAll(async () => {
    const build = compiledApp();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, [join(build, 'main.js')], {
      cwd: build,
      env: {
        ...process.env,
        MONGODB_URI: mongoUri,
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'warn',
        AUDIT_FLUSH_INTERVAL_MS: '60000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    exited = new Promise((resolve) =>
      server.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const deadline = Date.now() + 60_000;
    while (
      (await request(base)
        .get('/api/health')
        .then(
          (r) => r.status,
          () => 0,
        )) !== 200
    ) {
      if (server.exitCode !== null) throw new Error(`the API exited early:\n${output}`);
      if (Date.now() > deadline) throw new Error(`the API did not become healthy:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    db = await mongoose.createConnection(mongoUri).asPromise();
  }, 180_000);

  afterAll(async () => {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    await db?.close();
  });

  it('writes the buffered events before the process exits', async () => {
    const email = `sigterm-${Date.now()}@example.com`;
    const signup = await request(base)
      .post('/api/auth/signup')
      .send({ email, password: STRONG_PASSWORD, name: 'Leaving' })
      .expect(201);
    await request(base)
      .post('/api/auth/login')
      .send({ email, password: STRONG_PASSWORD })
      .expect(200);
    const events = db.collection('audit_events');
    const health = await request(base).get('/api/health').expect(200);
    expect(health.body.details.audit).toEqual({ status: 'up', buffered: 2, dropped: 0 });
    expect(await events.countDocuments({ subject: signup.body.id })).toBe(0);

    server.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    const stored = await events.find({ subject: signup.body.id }).toArray();
    expect(stored.map((e) => e.type).sort()).toEqual(['login.succeeded', 'user.signed_up']);
  }, 60_000);
});

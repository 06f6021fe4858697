import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { compiledApp } from './support/build.js';
import type { FerretDb } from './support/ferretdb.mjs';
import { freePort, startFerretDb } from './support/ferretdb.mjs';

// Graceful shutdown ends in process.exit, so this runs the compiled `main.js` as a real process,
// on a private FerretDB because the test freezes the database.
//
// Keeping requests in flight without a test-only route: the database process is stopped
// (SIGSTOP), so GET /api/health requests wait inside the handler for their MongoDB ping. SIGTERM
// arrives while they wait; then the database resumes (SIGCONT). Were in-flight requests dropped,
// the clients would see a reset connection; were MongoDB closed before they finished, their ping
// would report it down; were a drained keep-alive connection left open, the process would hang.
// During shutdown terminus deliberately answers health checks with 503 `shutting_down` (so load
// balancers stop routing to the instance): the assertion is a complete answer whose ping
// succeeded, whichever of the two it is.
describe('graceful shutdown (SIGTERM)', () => {
  const IN_FLIGHT = 6;
  let dataDir: string;
  let db: FerretDb;
  let port: number;
  let server: ChildProcess;
  let output = '';
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;

  beforeAll(async () => {
    const build = compiledApp();
    dataDir = mkdtempSync(join(tmpdir(), 'guardhouse-shutdown-'));
    db = await startFerretDb(dataDir);
    port = await freePort();
    server = spawn(process.execPath, [join(build, 'main.js')], {
      cwd: build,
      env: {
        ...process.env,
        MONGODB_URI: `${db.uri}/shutdown`,
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    exited = new Promise((resolve) =>
      server.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
    );
    await waitUntilHealthy();
  }, 60_000);

  afterAll(async () => {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    if (db.pid) process.kill(db.pid, 'SIGCONT');
    await db.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function waitUntilHealthy(): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const status = await get().then(
        (res) => res.status,
        () => 0,
      );
      if (status === 200) return;
      if (server.exitCode !== null) throw new Error(`the API exited early:\n${output}`);
      if (Date.now() > deadline) throw new Error(`the API did not become healthy:\n${output}`);
      await sleep(100);
    }
  }

  const agent = new http.Agent({ keepAlive: true });

  function get(): Promise<{ status: number; body: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/api/health', agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          if (!res.complete) return reject(new Error('response cut short'));
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(text) as Record<string, unknown>,
          });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
    });
  }

  function connectionRefused(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', (error: NodeJS.ErrnoException) =>
        resolve(error.code === 'ECONNREFUSED'),
      );
    });
  }

  it('finishes in-flight requests, refuses new connections, closes MongoDB last and exits 0', async () => {
    if (!db.pid) throw new Error('FerretDB has no pid');
    process.kill(db.pid, 'SIGSTOP');
    let settled = 0;
    const inFlight = Array.from({ length: IN_FLIGHT }, () =>
      get()
        .then(
          (res) => res,
          (error: Error) => ({ status: 0, body: { error: error.message } }),
        )
        .finally(() => settled++),
    );
    await sleep(500); // the requests reach the handler and wait for the frozen database
    expect(settled).toBe(0); // were they answered already, this API is not using that database

    server.kill('SIGTERM');
    await sleep(300);
    expect(server.exitCode).toBeNull(); // still draining
    expect(await connectionRefused()).toBe(true);

    process.kill(db.pid, 'SIGCONT');
    const results = await Promise.all(inFlight);
    const resumedAt = Date.now();
    for (const { status, body } of results) {
      // 503 `shutting_down` once terminus has seen the signal; a loaded machine may let a ping
      // finish first (200 `ok`). Either way: a complete answer whose MongoDB ping succeeded.
      expect([200, 503]).toContain(status);
      expect(body).toMatchObject({ details: { mongodb: { status: 'up' } } });
    }

    const { code, signal, at } = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    // Well before main.ts's 10 s safety exit (code 1): nothing held the process open.
    expect(at - resumedAt).toBeLessThan(5_000);

    const lines = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const signalled = lines.findIndex(
      (l) => l.msg === 'SIGTERM received: finishing in-flight requests',
    );
    expect(signalled).toBeGreaterThanOrEqual(0);
    // Every in-flight request was logged as answered after the signal.
    expect(
      lines
        .slice(signalled)
        .filter((l) => l.url === '/api/health' && [200, 503].includes(Number(l.statusCode))),
    ).toHaveLength(IN_FLIGHT);
  }, 30_000);
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

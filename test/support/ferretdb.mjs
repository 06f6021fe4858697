// FerretDB lifecycle for tests, in plain JavaScript because jest's globalSetup loads it natively.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Path of the embedded FerretDB binary, built by scripts/ferretdb.sh when missing or stale. */
export function ferretDbBinary() {
  return execFileSync('bash', [join(root, 'scripts', 'ferretdb.sh'), 'path'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

/** @returns {Promise<number>} */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** @param {number} port @returns {Promise<boolean>} */
function canConnect(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts a private FerretDB on 127.0.0.1 and resolves once it accepts connections.
 * @param {string} dataDir
 * @param {number} [port]
 */
export async function startFerretDb(dataDir, port) {
  const binary = ferretDbBinary();
  const listenPort = port ?? (await freePort());
  mkdirSync(dataDir, { recursive: true });
  const child = spawn(
    binary,
    ['-data', dataDir, '-listen', `127.0.0.1:${listenPort}`, '-log-level', 'error'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise((resolve) => child.once('exit', () => resolve(undefined)));
  const deadline = Date.now() + 15_000;
  while (!(await canConnect(listenPort))) {
    if (child.exitCode !== null) throw new Error(`FerretDB exited with code ${child.exitCode}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`FerretDB did not listen on port ${listenPort} within 15 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    port: listenPort,
    dataDir,
    uri: `mongodb://127.0.0.1:${listenPort}`,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// `npm run bench`: builds the API, runs it on a throwaway embedded FerretDB and measures each
// scenario below with autocannon, next to a bare node:http server as the ceiling of this machine.
// A benchmark, not a test: it asserts nothing about time. Everything listens on 127.0.0.1.
//   BENCH_DURATION     measured seconds per row (default 5; each row also gets a 1 s warm-up)
//   BENCH_CONNECTIONS  concurrent connections (default 20)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import autocannon from 'autocannon';

import { freePort, startFerretDb } from '../test/support/ferretdb.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const duration = positiveNumber('BENCH_DURATION', 5);
const connections = positiveNumber('BENCH_CONNECTIONS', 20);
const WARM_UP_SECONDS = 1;
const PASSWORD = 'Bench-pass-1!';
const MOVIES = 50;

/** A setup step hit a route the API does not have (yet): the row is reported, not run. */
class RouteMissing extends Error {}

/**
 * The rows of the table. `target` is the server to load; `setup` prepares what the requests
 * need (its result is passed to `request`) and may throw RouteMissing; `request` is one
 * autocannon request (method, path, headers, body, setupRequest).
 */
const scenarios = [
  {
    name: 'node:http hello-world (ceiling)',
    target: 'ceiling',
    request: () => ({ path: '/' }),
  },
  {
    name: 'GET /api/health',
    request: () => ({ path: '/api/health' }),
  },
  {
    name: 'GET /api/movies (public list)',
    setup: (fixtures) => fixtures.movies(),
    request: () => ({ path: '/api/movies?page=1&limit=20' }),
  },
  {
    name: 'GET /api/movies/:id (public read)',
    setup: (fixtures) => fixtures.movies(),
    request: ({ ids }) => ({ path: `/api/movies/${ids[Math.floor(ids.length / 2)]}` }),
  },
  {
    name: 'GET /api/users/me (authenticated read)',
    setup: (fixtures) => fixtures.user(),
    request: ({ token }) => ({ path: '/api/users/me', headers: bearer(token) }),
  },
  {
    name: 'POST /api/movies (authenticated create)',
    setup: (fixtures) => fixtures.user(),
    request: ({ token }) => {
      let next = 0;
      return {
        method: 'POST',
        path: '/api/movies',
        headers: { ...bearer(token), 'content-type': 'application/json' },
        // Movie names are unique: a new one for every request.
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({
            name: `Bench movie ${process.pid}-${Date.now()}-${next++}`,
            casts: ['Bench Actor'],
            genres: ['drama'],
          }),
        }),
      };
    },
  },
  {
    name: 'POST /api/auth/login',
    setup: (fixtures) => fixtures.user(),
    request: ({ email }) => ({
      method: 'POST',
      path: '/api/auth/login',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    }),
  },
];

const children = [];
let workDir;
let database;

async function main() {
  console.log(`Guardhouse benchmark, ${new Date().toISOString()}`);
  console.log(
    `Node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? '?'}), ` +
      `${(totalmem() / 2 ** 30).toFixed(1)} GiB memory, ` +
      `load average ${loadavg()[0].toFixed(2)} (other work on the machine skews the numbers)`,
  );
  console.log(
    `Each row: ${WARM_UP_SECONDS} s warm-up, then ${duration} s with ${connections} connections; ` +
      `SESSION_CACHE_TTL_MS=${process.env.SESSION_CACHE_TTL_MS ?? '5000'}`,
  );
  console.log('');

  console.error('Building the API (npm run build)...');
  const build = spawnSync('npm', ['run', 'build', '--silent'], {
    cwd: root,
    stdio: ['ignore', 2, 2],
  });
  if (build.status !== 0) throw new Error('npm run build failed');

  workDir = mkdtempSync(join(tmpdir(), 'guardhouse-bench-'));
  database = await startFerretDb(join(workDir, 'ferretdb'));
  const apiPort = await freePort();
  const api = startProcess('API', [join(root, 'dist', 'main.js')], {
    MONGODB_URI: `${database.uri}/bench`,
    HOST: '127.0.0.1',
    PORT: String(apiPort),
    LOG_LEVEL: 'warn',
    SESSION_CACHE_TTL_MS: process.env.SESSION_CACHE_TTL_MS ?? '5000',
    // The login row measures login itself, not the per-IP limiter (everything comes from 127.0.0.1).
    AUTH_RATE_LIMIT: '100000000',
    LOGIN_MAX_FAILURES_PER_IP: '100000000',
    // Every attempt counts against the account until it succeeds, and 20 connections log in at once.
    LOGIN_MAX_FAILURES_PER_ACCOUNT: '100000000',
    // In-flight logins count as failures until they succeed: keep the account slowdown out too.
    LOGIN_ACCOUNT_SLOWDOWN_AFTER: '100000000',
  });
  const ceilingPort = await freePort();
  const ceiling = startProcess('ceiling', ['--input-type=module', '-e', CEILING_SERVER], {
    PORT: String(ceilingPort),
  });
  const targets = {
    api: `http://127.0.0.1:${apiPort}`,
    ceiling: `http://127.0.0.1:${ceilingPort}`,
  };
  await waitForOk(`${targets.ceiling}/`, ceiling);
  await waitForOk(`${targets.api}/api/health`, api);

  const fixtures = new Fixtures(targets.api);
  const rows = [];
  for (const scenario of scenarios) {
    console.error(`Measuring ${scenario.name}...`);
    rows.push(await measure(scenario, targets[scenario.target ?? 'api'], fixtures));
  }
  printTable(rows);
}

async function measure(scenario, url, fixtures) {
  let request;
  try {
    request = scenario.request(scenario.setup ? await scenario.setup(fixtures) : undefined);
    await probe(url, request);
  } catch (error) {
    if (error instanceof RouteMissing) return { name: scenario.name, missing: 'route missing' };
    return { name: scenario.name, missing: `setup failed: ${error.message}` };
  }
  const options = { url, connections, requests: [request], timeout: 20 };
  await autocannon({ ...options, duration: WARM_UP_SECONDS });
  const result = await autocannon({ ...options, duration });
  const failures = Object.entries(result.statusCodeStats ?? {})
    .filter(([status]) => !status.startsWith('2'))
    .map(([status, { count }]) => `${count} × ${status}`);
  if (result.errors > 0) failures.push(`${result.errors} connection errors`);
  return {
    name: scenario.name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures,
  };
}

/** One request as autocannon would send it: a 404 means the route does not exist yet. */
async function probe(url, { method = 'GET', path, headers = {}, body, setupRequest }) {
  const request = setupRequest ? setupRequest({ method, path, headers, body }) : { body };
  const res = await fetch(`${url}${path}`, { method, headers, body: request.body });
  await res.arrayBuffer();
  if (res.status === 404) throw new RouteMissing(`${method} ${path}`);
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}`);
}

/** Data the authenticated and movie rows need, created once through the API itself. */
class Fixtures {
  #url;
  #user;
  #movies;

  constructor(url) {
    this.#url = url;
  }

  user() {
    this.#user ??= (async () => {
      const email = `bench-${process.pid}-${Date.now()}@example.com`;
      await this.#post('/api/auth/signup', { email, password: PASSWORD, name: 'Bench User' });
      const { accessToken } = await this.#post('/api/auth/login', { email, password: PASSWORD });
      if (typeof accessToken !== 'string') throw new Error('login returned no accessToken');
      return { email, token: accessToken };
    })();
    return this.#user;
  }

  movies() {
    this.#movies ??= (async () => {
      const { token } = await this.user();
      const ids = [];
      for (let i = 0; i < MOVIES; i++) {
        const movie = await this.#post(
          '/api/movies',
          { name: `Bench fixture ${process.pid}-${i}`, casts: ['A. Actor'], genres: ['drama'] },
          token,
        );
        ids.push(movie.id ?? movie._id);
      }
      return { ids };
    })();
    return this.#movies;
  }

  async #post(path, body, token) {
    const res = await fetch(`${this.#url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? bearer(token) : {}) },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status === 404) throw new RouteMissing(`POST ${path}`);
    if (!res.ok) throw new Error(`POST ${path} answered ${res.status}: ${text.slice(0, 200)}`);
    return JSON.parse(text);
  }
}

function printTable(rows) {
  const ceiling = rows[0]?.rps;
  const header = ['scenario', 'requests/s', 'p50 ms', 'p99 ms', 'ratio to ceiling'];
  const measured = rows.filter((row) => !row.missing);
  const cells = measured.map((row) => [
    row.name,
    row.rps.toFixed(0),
    milliseconds(row.p50),
    milliseconds(row.p99),
    ceiling ? (row.rps / ceiling).toFixed(2) : '',
  ]);
  const names = rows.map((row) => row.name);
  const widths = header.map((title, i) =>
    Math.max(
      title.length,
      ...(i === 0 ? names : cells.map((line) => line[i])).map((t) => t.length),
    ),
  );
  const format = (line) =>
    line.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  console.log(format(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) {
    if (row.missing) console.log(`${row.name.padEnd(widths[0])}  n/a (${row.missing})`);
    else console.log(format(cells[measured.indexOf(row)]));
  }
  const failing = measured.filter((row) => row.failures.length > 0);
  if (failing.length > 0) {
    console.log('');
    for (const row of failing) {
      console.log(`! ${row.name}: ${row.failures.join(', ')} (included in the numbers above)`);
    }
  }
}

/** autocannon measures whole milliseconds. */
function milliseconds(value) {
  return value < 1 ? '<1' : value.toFixed(0);
}

const CEILING_SERVER = `
import { createServer } from 'node:http';
createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('hello world');
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

function startProcess(name, args, env) {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.output = '';
  const keep = (chunk) => (child.output = (child.output + chunk).slice(-4000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.label = name;
  child.exited = new Promise((resolve) => child.once('exit', resolve));
  children.push(child);
  return child;
}

async function waitForOk(url, child) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = await fetch(url).then(
      async (res) => (await res.arrayBuffer(), res.ok),
      () => false,
    );
    if (ok) return;
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`${child.label} did not answer ${url}:\n${child.output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function bearer(token) {
  return { authorization: `Bearer ${token}` };
}

function positiveNumber(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

let cleaning;
function cleanUp() {
  cleaning ??= (async () => {
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await child.exited;
        clearTimeout(timer);
      }),
    );
    await database?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    console.error(`\n${signal}: cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  });
}

try {
  await main();
} catch (error) {
  console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanUp();
}

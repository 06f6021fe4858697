// `npm run bench`: builds the API, runs it at production settings (NODE_ENV=production, request
// logging on, written to a file) on a throwaway embedded FerretDB, and measures each route with
// autocannon next to its ceiling, measured in the same run: a bare node:http server for the
// routes that read no database, the same server doing the same driver `findOne` for a read by id,
// and bcrypt compares per second at the configured cost for login. Ratios taken in one run are
// what to compare: absolute numbers move a lot between runs on a shared machine. Two floors are
// measured too (scripts/bench-floor.mjs): Fastify and Nest, each with passport-jwt alone
// answering an authenticated read, to show what the framework stack itself costs.
// A benchmark, not a test: it asserts nothing about time. Everything listens on 127.0.0.1.
//
//   npm run bench                 the route table
//   npm run bench -- --growth     the growth table instead: list, read by id, login and refresh
//                                 at 100 and 10,000 documents (20,000 users), 1 and 32 clients
//   BENCH_DURATION     measured seconds per row (default 5; each row also gets a 1 s warm-up)
//   BENCH_CONNECTIONS  concurrent connections of the route table (default 32)
//   BENCH_LOGIN_CLIENTS  the login rows' concurrent clients (default 8,32,64; the growth table
//                      uses 1 and 32); login rows count 200 answers only (req/s, p50, p99) and
//                      show the 503s of the password hashing queue apart. Their clients honour
//                      Retry-After (politeLogins); one more row at the largest count has
//                      autocannon's clients, which send again the moment a 503 arrives
//   BENCH_LOGIN_CONNECTIONS  compares in flight for the bcrypt ceiling (default 8)
//   BCRYPT_ROUNDS      bcrypt cost of the accounts and of the ceiling (default 12, as the API)
//   BENCH_ROWS         only the API rows whose name matches this regular expression
//   BENCH_PAIRED_ROUNDS  rounds of the /users/me row against the Nest floor in alternating 2 s
//                      slices (floor, API, API, floor), right after its row (default 3): both then
//                      share the machine's moment, which a row measured minutes after its
//                      ceiling does not
//   BENCH_CPU_PROF     a directory: the API runs under `node --cpu-prof` and, once it exited,
//                      the top self-time entries of its profile are printed
//                      (e.g. BENCH_ROWS=users/me BENCH_CPU_PROF=/tmp/prof npm run bench)
import { spawn, spawnSync } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import {
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import autocannon from 'autocannon';
import bcrypt from 'bcrypt';
import mongoose from 'mongoose';

import { freePort, startFerretDb } from '../test/support/ferretdb.mjs';

const { MongoClient, ObjectId } = mongoose.mongo;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/**
 * The Node flags `npm start` (and the image's CMD) runs the API with. Every server the bench
 * starts, floors and ceilings included, runs with them: the ratios compare stacks, not flags.
 */
const START_FLAGS = startFlags(
  JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.start,
);
const growth = process.argv.includes('--growth');
const duration = positiveNumber('BENCH_DURATION', 5);
const connections = positiveNumber('BENCH_CONNECTIONS', 32);
const rounds = positiveNumber('BCRYPT_ROUNDS', 12);
const WARM_UP_SECONDS = 1;
const PAIRED_ROUNDS = positiveNumber('BENCH_PAIRED_ROUNDS', 3);
if (!Number.isInteger(PAIRED_ROUNDS)) throw new Error('BENCH_PAIRED_ROUNDS must be a whole number');
const PAIRED_SLICE_SECONDS = 2;
const CLOCK_TICKS = 100;
const PASSWORD = 'Bench-pass-1!';
const DB_NAME = 'bench';
const LOGIN_ACCOUNTS = 200;
// bcrypt runs on libuv's 4 threads: more compares in flight only queue.
const LOGIN_CONNECTIONS = positiveNumber('BENCH_LOGIN_CONNECTIONS', 8);
const LOGIN_CLIENTS = (process.env.BENCH_LOGIN_CLIENTS ?? '8,32,64').split(',').map(Number);
if (LOGIN_CLIENTS.some((n) => !Number.isInteger(n) || n < 1)) {
  throw new Error('BENCH_LOGIN_CLIENTS must be a comma-separated list of client counts');
}
// A handful of compares per second at cost 12 on a small machine: login rows run longer.
const LOGIN_DURATION = Math.max(duration, 10);
// Issue 21's targets, as ratios to bcrypt compares/s at the same cost.
const LOGIN_TARGETS = {
  8: '≥ 0.85×',
  32: '≥ 0.8×, none waits > LOGIN_QUEUE_TIMEOUT_MS',
};
const MOVIES = 50;
const rowFilter = process.env.BENCH_ROWS ? new RegExp(process.env.BENCH_ROWS) : undefined;
const profileDir = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : undefined;

const children = [];
let workDir;
let database;
let client;

async function main() {
  console.log(`Guardhouse benchmark${growth ? ' (growth)' : ''}, ${new Date().toISOString()}`);
  console.log(
    `Node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? '?'}), ` +
      `${(totalmem() / 2 ** 30).toFixed(1)} GiB memory, ` +
      `load average ${loadavg()[0].toFixed(2)} (other work on the machine skews the numbers)`,
  );
  console.log(
    `NODE_ENV=production, LOG_LEVEL=info (request log to a file), BCRYPT_ROUNDS=${rounds}, ` +
      `servers run with \`node ${START_FLAGS.join(' ')}\` (as \`npm start\`), ` +
      `SESSION_CACHE_TTL_MS=${process.env.SESSION_CACHE_TTL_MS ?? '5000'}; each row: ` +
      `${WARM_UP_SECONDS} s warm-up, then ${duration} s` +
      (growth ? '' : ` with ${connections} connections`) +
      ` (login: ${LOGIN_DURATION} s` +
      (growth
        ? ')'
        : ` with ${LOGIN_CLIENTS.join(', ')} clients honouring Retry-After, then ` +
          `${Math.max(...LOGIN_CLIENTS)} retrying at once; ${LOGIN_CONNECTIONS} compares in ` +
          'flight for its ceiling)'),
  );
  console.log('');

  console.error('Building the API (npm run build)...');
  const build = spawnSync('npm', ['run', 'build', '--silent'], {
    cwd: root,
    stdio: ['ignore', 2, 2],
  });
  if (build.status !== 0) throw new Error('npm run build failed');

  workDir = mkdtempSync(join(tmpdir(), 'guardhouse-bench-'));
  // Known here too: the route table signs fresh access tokens for one of its rows.
  const jwtSecret = randomBytes(48).toString('base64');
  database = await startFerretDb(join(workDir, 'ferretdb'));
  const uri = `${database.uri}/${DB_NAME}`;
  const logFile = join(workDir, 'api.log');
  const apiPort = await freePort();
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const api = startProcess(
    'API',
    [
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      join(root, 'dist', 'main.js'),
    ],
    {
      NODE_ENV: 'production',
      JWT_SECRET: jwtSecret,
      MONGODB_URI: uri,
      HOST: '127.0.0.1',
      PORT: String(apiPort),
      LOG_LEVEL: 'info',
      BCRYPT_ROUNDS: String(rounds),
      SESSION_CACHE_TTL_MS: process.env.SESSION_CACHE_TTL_MS ?? '5000',
      // Every request comes from 127.0.0.1: the per-IP limits would measure the limiter, not login.
      AUTH_RATE_LIMIT: '100000000',
      ...(process.env.AUTH_RATE_LIMIT_TTL_SECONDS
        ? { AUTH_RATE_LIMIT_TTL_SECONDS: process.env.AUTH_RATE_LIMIT_TTL_SECONDS }
        : {}),
      LOGIN_MAX_FAILURES_PER_IP: '100000000',
      // One key sends every request of its row: the per-key limit would measure the limiter.
      API_KEY_RATE_LIMIT: '100000000',
      // Production needs these; the benchmarked routes send no mail and read no second factor.
      MFA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      API_KEY_HASH_SECRET: randomBytes(32).toString('hex'),
      SMTP_URL: 'smtp://127.0.0.1:9',
      PUBLIC_URL: 'https://bench.invalid',
      // A throwaway database: build the indexes at start-up instead of `npm run db:indexes`.
      MONGODB_AUTO_INDEX: 'true',
    },
    logFile,
  );
  const ceilingPort = await freePort();
  const ceiling = startProcess('ceiling', ['--input-type=module', '-e', CEILING_SERVER], {
    PORT: String(ceilingPort),
    MONGODB_URI: uri,
  });
  const floorSecret = randomBytes(48).toString('base64');
  const floors = {};
  for (const stack of growth ? [] : ['fastify', 'nest']) {
    const port = await freePort();
    const child = startProcess(
      `${stack} floor`,
      [join(root, 'scripts', 'bench-floor.mjs'), stack],
      {
        PORT: String(port),
        FLOOR_SECRET: floorSecret,
      },
    );
    floors[stack] = { url: `http://127.0.0.1:${port}`, child };
  }
  const api_ = `http://127.0.0.1:${apiPort}`;
  const bare = `http://127.0.0.1:${ceilingPort}`;
  await waitForOk(`${bare}/`, ceiling);
  await waitForOk(`${api_}/api/health`, api);
  client = await new MongoClient(uri).connect();
  const db = client.db(DB_NAME);
  const hash = await bcrypt.hash(PASSWORD, rounds);
  const owner = await seedUsers(db, hash, 0, 1, 'owner');

  if (growth) await growthTable(db, hash, owner, api_);
  else {
    const pids = { api: api.pid, db: database.pid };
    await routeTable(db, hash, owner, api_, bare, floors, floorToken(floorSecret), jwtSecret, pids);
  }

  const lines = readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((line) => line.includes('"reqId"'));
  console.log('');
  console.log(`Request log: ${lines.length} lines written to the log file during the run.`);
}

async function routeTable(db, hash, owner, api, bare, floors, floorBearer, jwtSecret, pids) {
  const movieIds = await seedMovies(db, owner, 0, MOVIES);
  const accounts = await seedUsers(db, hash, 0, LOGIN_ACCOUNTS, 'login');
  const token = await login(api, accounts[0]);
  const id = movieIds[Math.floor(movieIds.length / 2)];
  const hello = { name: 'node:http hello-world', ...(await load(bare, get('/'), connections)) };
  const findOne = {
    name: 'node:http + driver findOne',
    ...(await load(bare, get(`/movies/${id}`), connections)),
  };
  // Not ceilings: what the bare framework stack costs for an authenticated read (scripts/bench-floor.mjs).
  const floorRows = [];
  for (const [stack, name] of [
    ['fastify', 'floor: Fastify + passport-jwt'],
    ['nest', 'floor: Nest + passport-jwt'],
  ]) {
    await waitForOk(`${floors[stack].url}/me`, floors[stack].child, floorBearer);
    const pid = floors[stack].child.pid;
    const before = { cpu: cpuMs(pid), main: cpuMs(pid, pid) };
    const row = { name, ceiling: hello, target: '' };
    Object.assign(row, await load(floors[stack].url, get('/me', floorBearer), connections));
    // The floors' CPU per request too: a ratio of CPU costs holds when the machine is shared.
    const answered = Math.max(1, row.completed + row.warmUpCompleted);
    row.apiCpu = (cpuMs(pid) - before.cpu) / answered;
    row.mainCpu = (cpuMs(pid, pid) - before.main) / answered;
    floorRows.push(row);
  }
  console.error('Measuring bcrypt compares/s...');
  const compares = { name: `bcrypt compare, cost ${rounds}`, rps: await bcryptRate(hash) };
  const nestFloor = floorRows[1];
  const tokenRow = {
    // Against the framework's own floor: Nest + passport-jwt answering an authenticated read.
    name: 'GET /api/users/me',
    ceiling: nestFloor,
    target: '≥ 0.8×, p99 ≤ 10 ms',
    request: get('/api/users/me', token),
  };
  const apiKey = await createApiKey(api, token);
  const rows = [
    { name: 'GET /api/health', ceiling: hello, target: '', request: get('/api/health') },
    tokenRow,
    {
      // The same read with an API key (docs/api-keys.md) instead of an access token.
      name: 'GET /api/users/me (API key)',
      ceiling: tokenRow,
      target: '≥ 0.9×',
      request: get('/api/users/me', apiKey),
    },
    {
      // The row above sends one token, which the API verifies once and then remembers; here
      // every request carries a token it has never seen, as the floors do.
      name: 'GET /api/users/me (a new token each request)',
      ceiling: nestFloor,
      target: '',
      request: freshTokenRequest('/api/users/me', token, jwtSecret),
    },
    {
      name: 'GET /api/movies/:id',
      ceiling: findOne,
      target: '≥ 0.7×',
      request: get(`/api/movies/${id}`),
    },
    {
      name: 'GET /api/movies (page of 20)',
      ceiling: hello,
      target: '',
      request: get('/api/movies?page=1&limit=20'),
    },
    ...LOGIN_CLIENTS.map((clients) => ({
      name: `POST /api/auth/login, ${clients} clients (200 accounts)`,
      clients,
      ceiling: compares,
      target: LOGIN_TARGETS[clients] ?? '',
      polite: accounts,
    })),
    {
      name: `POST /api/auth/login, ${Math.max(...LOGIN_CLIENTS)} clients retrying at once`,
      clients: Math.max(...LOGIN_CLIENTS),
      ceiling: compares,
      target: '',
      request: loginRequest(accounts),
    },
  ];
  const measured = rows.filter((row) => !rowFilter || rowFilter.test(row.name));
  /** The token row against the Nest floor in alternating slices, when that row is measured. */
  let paired;
  for (const row of measured) {
    console.error(`Measuring ${row.name}...`);
    const login = row.ceiling === compares;
    const cpuNow = () => ({
      api: cpuMs(pids.api),
      main: cpuMs(pids.api, pids.api),
      db: cpuMs(pids.db),
      threads: threadCpu(pids.api),
    });
    let before = cpuNow();
    // A polite login row's CPU counts from the end of its warm-up (its clients run on), the
    // others' from before it: answers and CPU then cover the same seconds.
    let fromWarmUp = true;
    const measuring = () => {
      before = cpuNow();
      fromWarmUp = false;
    };
    Object.assign(
      row,
      row.polite
        ? await politeLogins(api, row.polite, row.clients, measuring)
        : await load(api, row.request, row.clients ?? connections, login),
    );
    // CPU time per answered request: where the cost of a row goes.
    const answered = Math.max(
      1,
      row.completed + (row.unavailable ?? 0) + (fromWarmUp ? row.warmUpCompleted : 0),
    );
    row.apiCpu = (cpuMs(pids.api) - before.api) / answered;
    row.dbCpu = (cpuMs(pids.db) - before.db) / answered;
    // The main thread's share (JavaScript: Nest, the driver, JSON); the rest ran on libuv's
    // thread pool (bcrypt) and V8's helper threads.
    row.mainCpu = (cpuMs(pids.api, pids.api) - before.main) / answered;
    if (process.env.BENCH_THREADS) {
      const after = threadCpu(pids.api);
      const perName = {};
      for (const [tid, { name, ms: used }] of after) {
        const key = tid === String(pids.api) ? 'main' : `${name}:${tid}`;
        const spent = (used - (before.threads.get(tid)?.ms ?? 0)) / answered;
        if (spent > 0) perName[key] = Math.round(spent * 10) / 10;
      }
      console.error(`  ${row.name}: API CPU ms per request by thread: ${JSON.stringify(perName)}`);
    }
    if (row === tokenRow) {
      // Right after its row, before the login rows leave bcrypt work behind.
      console.error(`Measuring ${tokenRow.name} and the Nest floor in alternating slices...`);
      const floor = {
        url: floors.nest.url,
        request: get('/me', floorBearer),
        pid: floors.nest.child.pid,
      };
      paired = await alternate(floor, { url: api, request: tokenRow.request, pid: pids.api });
    }
  }
  printTable(
    [
      'route',
      'req/s',
      'p50 ms',
      'p99 ms',
      '503s',
      'API CPU ms',
      'main ms',
      'DB CPU ms',
      'ceiling',
      'ceiling/s',
      'ratio',
      'target',
    ],
    [hello, findOne, compares]
      .map((c) => [c.name, fixed(c.rps), ms(c.p50), ms(c.p99), '', '', '', '', '', '', '', ''])
      .concat(
        [...floorRows, ...measured].map((row) => [
          row.name,
          fixed(row.rps),
          ms(row.p50),
          ms(row.p99),
          row.unavailable === undefined ? '' : String(row.unavailable),
          row.apiCpu === undefined ? '' : cpu(row.apiCpu),
          row.mainCpu === undefined ? '' : cpu(row.mainCpu),
          row.dbCpu === undefined ? '' : cpu(row.dbCpu),
          row.ceiling.name,
          fixed(row.ceiling.rps),
          `${(row.rps / row.ceiling.rps).toFixed(2)}×`,
          row.target,
        ]),
      ),
  );
  for (const row of measured.filter((r) => r.ceiling === nestFloor && r.mainCpu > 0)) {
    console.log(
      `${row.name}: ${cpu(row.mainCpu)} ms of main-thread CPU per request against the Nest ` +
        `floor's ${cpu(nestFloor.mainCpu)} ms: ${(nestFloor.mainCpu / row.mainCpu).toFixed(2)}× ` +
        'its cost ratio (what the req/s ratio would be if each process had a core to itself).',
    );
  }
  if (paired) printPaired(tokenRow.name, paired);
  printFailures(measured);
}

/**
 * A route against its ceiling in alternating slices, each round floor, route, route, floor:
 * per round, the route's req/s and main-thread CPU per request against the ceiling's.
 */
async function alternate(ceiling, route) {
  const results = [];
  for (let round = 0; round < PAIRED_ROUNDS; round++) {
    const [a, b, c, d] = [
      await slice(ceiling),
      await slice(route),
      await slice(route),
      await slice(ceiling),
    ];
    results.push({
      rps: (b.rps + c.rps) / (a.rps + d.rps),
      cost: (a.cpu + d.cpu) / (b.cpu + c.cpu),
      p99: Math.max(b.p99, c.p99),
    });
  }
  return results;
}

/** One slice of load on one process: req/s, p99 and main-thread CPU ms per answered request. */
async function slice({ url, request, pid }) {
  const before = cpuMs(pid, pid);
  const result = await autocannon({
    url,
    connections,
    requests: [request],
    duration: PAIRED_SLICE_SECONDS,
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${url}: ${result.non2xx} answers not 2xx, ${result.errors} errors`);
  }
  const answered = Math.max(1, result.requests.total);
  return {
    rps: answered / PAIRED_SLICE_SECONDS,
    cpu: (cpuMs(pid, pid) - before) / answered,
    p99: result.latency.p99,
  };
}

function printPaired(name, results) {
  const median = (values) => {
    const sorted = [...values].sort((x, y) => x - y);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  };
  const span = (values) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}×`;
  const rps = results.map((r) => r.rps);
  const cost = results.map((r) => r.cost);
  console.log(
    `${name} against the Nest floor in ${results.length} rounds of alternating ` +
      `${PAIRED_SLICE_SECONDS} s slices (floor, API, API, floor): req/s ratio ` +
      `${median(rps).toFixed(2)}× (median; rounds ${span(rps)}), cost ratio ` +
      `${median(cost).toFixed(2)}× (rounds ${span(cost)}), p99 of the API's slices ` +
      `${Math.max(...results.map((r) => r.p99))} ms at most.`,
  );
}

async function growthTable(db, hash, owner, api) {
  const rows = [];
  let movies = 0;
  let users = 1;
  let tokens = 0;
  for (const [size, userCount] of [
    [100, 100],
    [10_000, 20_000],
  ]) {
    console.error(`Seeding ${size} movies, ${userCount} users, ${size} refresh tokens...`);
    await seedMovies(db, owner, movies, size - movies);
    movies = size;
    await seedUsers(db, hash, users, userCount - users, 'user');
    users = userCount;
    await seedSessions(db, owner, size - tokens);
    tokens = size;
    const ids = await db
      .collection('movies')
      .find({}, { projection: { _id: 1 } })
      .toArray();
    const id = ids[Math.floor(ids.length / 2)]._id.toString();
    // Accounts spread over the whole collection, so a scan does not always stop early.
    const step = Math.max(1, Math.floor(userCount / LOGIN_ACCOUNTS));
    const accounts = Array.from({ length: Math.min(LOGIN_ACCOUNTS, userCount) }, (_, i) =>
      i * step < 1 ? 'owner-0@bench.example' : `user-${i * step}@bench.example`,
    );
    const pool = await seedSessions(db, owner, 4 * 32 + 64);
    for (const clients of [1, 32]) {
      const scenarios = [
        { name: 'GET /api/movies (page of 20)', request: get('/api/movies?page=1&limit=20') },
        { name: 'GET /api/movies/:id', request: get(`/api/movies/${id}`) },
        { name: 'POST /api/auth/login', request: loginRequest(accounts) },
        { name: 'POST /api/auth/refresh', request: refreshRequest(pool) },
      ];
      for (const { name, request } of scenarios) {
        console.error(`Measuring ${name} at ${size} documents, ${clients} clients...`);
        const login = name.includes('login');
        rows.push({ name, size, clients, ...(await load(api, request, clients, login)) });
      }
    }
  }
  printTable(
    ['route', 'documents', 'clients', 'req/s', 'p50 ms', 'p99 ms'],
    rows.map((row) => [
      row.name,
      row.name.includes('login') ? `${row.size === 100 ? 100 : 20_000} users` : String(row.size),
      String(row.clients),
      fixed(row.rps),
      // Nothing answered within the row: latency is at least the row's duration.
      row.completed === 0 ? `> ${Math.round(row.seconds * 1000)}` : ms(row.p50),
      row.completed === 0 ? `> ${Math.round(row.seconds * 1000)}` : ms(row.p99),
    ]),
  );
  printFailures(rows.map((row) => ({ ...row, name: `${row.name} (${row.size}, ${row.clients})` })));
}

/**
 * One autocannon run after a warm-up; non-2xx answers and errors are reported with the row. A
 * login row counts its 200 answers only (req/s, p50, p99): the password hashing queue answers
 * what it cannot take in time with an immediate 503, counted apart (`unavailable`).
 */
async function load(url, request, conns, login = false) {
  const seconds = login ? LOGIN_DURATION : duration;
  const options = { url, connections: conns, requests: [request], timeout: login ? 60 : 10 };
  const warmUp = await autocannon({ ...options, duration: WARM_UP_SECONDS });
  const run = autocannon({ ...options, duration: seconds });
  const okLatencies = [];
  run.on('response', (_client, status, _bytes, latency) => {
    if (status >= 200 && status < 300) okLatencies.push(latency);
  });
  const result = await run;
  const failures = Object.entries(result.statusCodeStats ?? {})
    .filter(([status]) => !status.startsWith('2') && !(login && status === '503'))
    .map(([status, { count }]) => `${count} × ${status}`);
  if (result.errors > 0) failures.push(`${result.errors} errors (${result.timeouts} timeouts)`);
  if (login) {
    okLatencies.sort((a, b) => a - b);
    return {
      rps: okLatencies.length / seconds,
      completed: okLatencies.length,
      seconds,
      p50: percentile(okLatencies, 50),
      p99: percentile(okLatencies, 99),
      unavailable: result.statusCodeStats?.['503']?.count ?? 0,
      warmUpCompleted: warmUp.requests.total,
      failures,
    };
  }
  return {
    rps: result.requests.average,
    completed: result.requests.total,
    seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    warmUpCompleted: warmUp.requests.total,
    failures,
  };
}

/**
 * Login clients that behave as a well-written client does: each sends one login at a time (200
 * accounts in turn) and, answered 503, waits the Retry-After it was given (times 0.5–1.5, so the
 * refused clients do not come back together) before sending again. The same clients run through
 * the warm-up into the measured seconds, so these start with the queue as full as it stays (a
 * warm-up of its own clients, closed before the row, left the row to start from an empty queue
 * while the logins it had admitted, their database work done, were dropped unanswered).
 * `onMeasuring` is called when the measured seconds begin; the answers received from then on are
 * the row's. When the row's time is up, requests still in flight are abandoned (their sockets
 * closed), as autocannon does. Returns what `load` returns for a login row.
 */
async function politeLogins(url, emails, clients, onMeasuring) {
  let next = 0;
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const stop = AbortSignal.timeout((WARM_UP_SECONDS + LOGIN_DURATION) * 1000);
  // Every client's request and Retry-After wait listen to it.
  setMaxListeners(2 * clients + 10, stop);
  let warmUpAnswered = 0;
  let inWindow = false;
  const result = { ok: [], unavailable: 0, statuses: {}, errors: 0 };
  // The measured seconds as they ran (a late timer shortens them), not as planned.
  let measured = { from: performance.now(), to: undefined };
  const measuring = setTimeout(() => {
    onMeasuring?.();
    inWindow = true;
    measured = { from: performance.now(), to: undefined };
  }, WARM_UP_SECONDS * 1000);
  stop.addEventListener('abort', () => (measured.to = performance.now()), { once: true });
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (!stop.aborted) {
        const body = JSON.stringify({
          email: emails[next++ % emails.length],
          password: PASSWORD,
        });
        const started = performance.now();
        let answer;
        try {
          answer = await postJson(`${url}/api/auth/login`, body, agent, stop);
        } catch {
          if (!stop.aborted && inWindow) result.errors++;
          continue;
        }
        if (!inWindow) warmUpAnswered++;
        else if (answer.status === 200) result.ok.push(performance.now() - started);
        else if (answer.status === 503) result.unavailable++;
        else result.statuses[answer.status] = (result.statuses[answer.status] ?? 0) + 1;
        if (answer.status === 503) {
          const wait = Number(answer.retryAfter) * 1000 * (0.5 + Math.random());
          await sleep(wait, undefined, { signal: stop }).catch(() => undefined);
        }
      }
    }),
  );
  clearTimeout(measuring);
  agent.destroy();
  result.ok.sort((a, b) => a - b);
  const failures = Object.entries(result.statuses).map(([status, count]) => `${count} × ${status}`);
  if (result.errors > 0) failures.push(`${result.errors} errors`);
  const seconds = ((measured.to ?? performance.now()) - measured.from) / 1000;
  return {
    rps: result.ok.length / seconds,
    completed: result.ok.length,
    seconds,
    p50: percentile(result.ok, 50),
    p99: percentile(result.ok, 99),
    unavailable: result.unavailable,
    warmUpCompleted: warmUpAnswered,
    failures,
  };
}

/** One JSON POST; aborting `signal` closes its socket. */
function postJson(url, body, agent, signal) {
  return new Promise((resolve, reject) => {
    const sent = httpRequest(url, {
      method: 'POST',
      agent,
      signal,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    sent.on('error', reject);
    sent.on('response', (response) => {
      response.resume();
      response.on('error', reject);
      response.on('end', () =>
        resolve({ status: response.statusCode, retryAfter: response.headers['retry-after'] }),
      );
    });
    sent.end(body);
  });
}

/** CPU time (user + system) a process has used so far, in milliseconds (Linux /proc). */
function cpuMs(pid, thread) {
  try {
    const path = thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`;
    const fields = readFileSync(path, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** CPU ms used so far by each thread of a process, with the thread's name. */
function threadCpu(pid) {
  const threads = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
    threads.set(tid, { name, ms: cpuMs(pid, tid) });
  }
  return threads;
}

function cpu(value) {
  return Number.isNaN(value) ? '?' : value < 1 ? value.toFixed(2) : value.toFixed(1);
}

function percentile(sorted, p) {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** bcrypt compares per second at the accounts' cost, as many in flight as the login row. */
async function bcryptRate(hash) {
  await bcrypt.compare(PASSWORD, hash);
  let done = 0;
  const end = Date.now() + LOGIN_DURATION * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: LOGIN_CONNECTIONS }, async () => {
      while (Date.now() < end) {
        await bcrypt.compare(PASSWORD, hash);
        done++;
      }
    }),
  );
  return done / ((Date.now() - started) / 1000);
}

/** An HS256 JWT with header type `typ`, signed with the utf-8 bytes of `secret` (as the API does). */
function signHs256(typ, claims, secret) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${part({ alg: 'HS256', typ })}.${part(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/**
 * GETs `path`, each with an access token of `token`'s session never sent before (a distinct
 * `jti`), signed as the API signs them (default issuer and audience, `at+jwt`).
 */
function freshTokenRequest(path, token, secret) {
  const { sub, sid } = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
  let next = 0;
  return {
    method: 'GET',
    path,
    setupRequest: (request) => {
      const iat = Math.floor(Date.now() / 1000);
      const claims = { sub, sid, jti: String(next++), iat, exp: iat + 900 };
      const fresh = signHs256(
        'at+jwt',
        { ...claims, iss: 'guardhouse', aud: 'guardhouse-api' },
        secret,
      );
      return { ...request, headers: { authorization: `Bearer ${fresh}` } };
    },
  };
}

/** An access token for the floors (same issuer and audience as scripts/bench-floor.mjs). */
function floorToken(secret) {
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: 'floor-user', iss: 'bench', aud: 'bench', iat: now, exp: now + 3600 };
  return signHs256('JWT', claims, secret);
}

function get(path, token) {
  return { method: 'GET', path, headers: token ? { authorization: `Bearer ${token}` } : {} };
}

function loginRequest(emails) {
  let next = 0;
  return {
    method: 'POST',
    path: '/api/auth/login',
    headers: { 'content-type': 'application/json' },
    setupRequest: (request) => ({
      ...request,
      body: JSON.stringify({ email: emails[next++ % emails.length], password: PASSWORD }),
    }),
  };
}

/** Each refresh spends one live token and returns the next one to the pool. */
function refreshRequest(pool) {
  return {
    method: 'POST',
    path: '/api/auth/refresh',
    headers: { 'content-type': 'application/json' },
    setupRequest: (request) => ({
      ...request,
      body: JSON.stringify({ refreshToken: pool.shift() ?? 'pool-exhausted' }),
    }),
    onResponse: (status, body) => {
      if (status === 200) pool.push(JSON.parse(body).refreshToken);
    },
  };
}

async function login(api, email) {
  const res = await fetch(`${api}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`login answered ${res.status}: ${JSON.stringify(body)}`);
  return body.accessToken;
}

/** An API key of the logged-in account (the login is recent: key creation needs that). */
async function createApiKey(api, token) {
  const res = await fetch(`${api}/api/auth/api-keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ name: 'bench', scopes: ['account:read'] }),
  });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`API key creation answered ${res.status}`);
  return body.key;
}

/** Users straight through the driver, all with one precomputed hash (signup would bcrypt each). */
async function seedUsers(db, hash, from, count, prefix) {
  const now = new Date();
  const emails = [];
  for (let start = from; start < from + count; start += 1000) {
    const batch = [];
    for (let i = start; i < Math.min(from + count, start + 1000); i++) {
      const email = `${prefix}-${i}@bench.example`;
      emails.push(email);
      batch.push({
        email,
        name: `Bench ${i}`,
        passwordHash: hash,
        role: 'user',
        active: true,
        passwordChangedAt: null,
        deletedAt: null,
        createdAt: now,
        updatedAt: now,
      });
    }
    await db.collection('users').insertMany(batch);
  }
  if (prefix === 'owner') {
    return (await db.collection('users').findOne({ email: emails[0] }))._id;
  }
  return emails;
}

async function seedMovies(db, owner, from, count) {
  const ids = [];
  for (let start = from; start < from + count; start += 1000) {
    const batch = [];
    for (let i = start; i < Math.min(from + count, start + 1000); i++) {
      const now = new Date(Date.now() + i);
      batch.push({
        _id: new ObjectId(),
        name: `Bench movie ${i}`,
        casts: ['A. Actor'],
        genres: ['drama'],
        addedBy: owner,
        createdAt: now,
        updatedAt: now,
      });
    }
    await db.collection('movies').insertMany(batch);
    ids.push(...batch.map((movie) => movie._id.toString()));
  }
  return ids;
}

/** Sessions with a live refresh token each, as login creates them; returns the tokens. */
async function seedSessions(db, user, count) {
  const tokens = [];
  const now = new Date();
  const ends = new Date(Date.now() + 24 * 3600 * 1000);
  for (let start = 0; start < count; start += 1000) {
    const sessions = [];
    const rows = [];
    for (let i = start; i < Math.min(count, start + 1000); i++) {
      const id = randomBytes(16).toString('base64url');
      const token = randomBytes(32).toString('base64url');
      tokens.push(token);
      sessions.push({
        _id: id,
        user,
        expiresAt: ends,
        endsAt: ends,
        createdAt: now,
        updatedAt: now,
      });
      rows.push({
        hash: createHash('sha256').update(token).digest('hex'),
        session: id,
        user,
        parent: `session:${id}`,
        expiresAt: ends,
        createdAt: now,
      });
    }
    await db.collection('sessions').insertMany(sessions);
    await db.collection('refresh_tokens').insertMany(rows);
  }
  return tokens;
}

function printTable(header, cells) {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...cells.map((line) => line[i].length)),
  );
  const format = (line) =>
    '| ' +
    line
      .map((cell, i) =>
        i === 0 || i === header.length - 1 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]),
      )
      .join(' | ') +
    ' |';
  console.log(format(header));
  console.log('|' + widths.map((width) => '-'.repeat(width + 2)).join('|') + '|');
  for (const line of cells) console.log(format(line));
}

function printFailures(rows) {
  const failing = rows.filter((row) => row.failures?.length > 0);
  if (failing.length === 0) return;
  console.log('');
  for (const row of failing)
    console.log(`! ${row.name}: ${row.failures.join(', ')} (included above)`);
}

function fixed(value) {
  return value === undefined ? '' : value < 10 ? value.toFixed(1) : value.toFixed(0);
}

/** autocannon measures whole milliseconds. */
function ms(value) {
  if (value === undefined) return '';
  return value < 1 ? '<1' : value.toFixed(0);
}

// The ceilings: what node:http alone answers, and the same with the driver's findOne by id.
const CEILING_SERVER = `
import { createServer } from 'node:http';
import mongoose from 'mongoose';
const { MongoClient, ObjectId } = mongoose.mongo;
const movies = (await new MongoClient(process.env.MONGODB_URI).connect()).db().collection('movies');
createServer(async (req, res) => {
  if (req.url.startsWith('/movies/')) {
    const movie = await movies.findOne({ _id: new ObjectId(req.url.slice(8)) });
    res.writeHead(movie ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(movie));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('hello world');
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

/** `node --flag=value … dist/main.js` → the flags; any other shape is refused, not guessed at. */
function startFlags(command) {
  const match = /^node((?:\s+--[\w-]+=\S+)*)\s+dist\/main\.js$/.exec(command);
  if (!match)
    throw new Error(`package.json's start script is not "node --flag=value … dist/main.js"`);
  return match[1].split(/\s+/).filter(Boolean);
}

function startProcess(name, args, env, logFile) {
  const out = logFile ? openSync(logFile, 'a') : 'pipe';
  const child = spawn(process.execPath, [...START_FLAGS, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', out, 'pipe'],
  });
  child.output = '';
  const keep = (chunk) => (child.output = (child.output + chunk).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr.on('data', keep);
  child.label = name;
  child.logFile = logFile;
  child.exited = new Promise((resolve) => child.once('exit', resolve));
  children.push(child);
  return child;
}

async function waitForOk(url, child, token) {
  const deadline = Date.now() + 30_000;
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  for (;;) {
    const ok = await fetch(url, { headers }).then(
      async (res) => (await res.arrayBuffer(), res.ok),
      () => false,
    );
    if (ok) return;
    if (child.exitCode !== null || Date.now() > deadline) {
      const log = child.logFile ? readFileSync(child.logFile, 'utf8').slice(-4000) : '';
      throw new Error(`${child.label} did not answer ${url}:\n${child.output}${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The top self-time entries of the newest CPU profile in `dir` (the API's, written at exit). */
function printProfile(dir) {
  const newest = readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => join(dir, name))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (!newest) return console.log(`\nNo CPU profile in ${dir}`);
  const profile = JSON.parse(readFileSync(newest, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const { functionName, url, lineNumber } = nodes.get(id).callFrame;
    const where = url
      ? ` ${url.replace(/^.*node_modules\//, '').replace(root, '.')}:${lineNumber + 1}`
      : '';
    const key = `${functionName || '(anonymous)'}${where}`;
    // Waiting (for other rows, for the network) is not a cost of the API.
    if (key === '(idle)') return;
    const delta = profile.timeDeltas[i] ?? 0;
    self.set(key, (self.get(key) ?? 0) + delta);
    total += delta;
  });
  console.log(
    `\nCPU profile of the API (${newest}), top self time (share of busy time, whole run):`,
  );
  for (const [key, time] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
    console.log(`${((100 * time) / total).toFixed(1).padStart(5)}%  ${key}`);
  }
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
    await client?.close();
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
  console.error(`bench failed: ${error instanceof Error ? error.stack : String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanUp();
  if (profileDir && !process.exitCode) printProfile(profileDir);
}

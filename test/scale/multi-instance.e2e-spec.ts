import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Connection } from 'mongoose';
import { createConnection, Types } from 'mongoose';

import { TEST_ADMIN, TEST_JWT_SECRET, testDatabaseUri } from '../support/app.js';
import { compiledApp } from '../support/build.js';
import { freePort } from '../support/ferretdb.mjs';
import { STRONG_PASSWORD } from '../support/users.js';
import { pollUntil } from '../support/wait.js';

// Three API processes on one database behind HAProxy, configured by deploy/haproxy.cfg itself,
// each started with the image's start command (the Dockerfile's CMD). Requests carry their own
// X-Forwarded-For client address (the instances trust 127.0.0.1, HAProxy's address), so each
// scenario is a client of its own for the per-IP limits, unless it picks one on purpose.

const root = fileURLToPath(new URL('../..', import.meta.url));
const SESSION_CACHE_TTL_MS = 300;
/** Revocation must reach every instance within the cache lifetime; this is scheduling slack. */
const REVOCATION_DEADLINE_MS = SESSION_CACHE_TTL_MS + 2_000;
const AUTH_RATE_LIMIT = 12;
const LOGIN_MAX_FAILURES_PER_ACCOUNT = 4;
const CHECK_INTERVAL_MS = 200;
/** HAProxy marks an instance down after 2 failed checks; the instance keeps serving until then. */
const SHUTDOWN_DRAIN_MS = 1_000;

/** The Dockerfile's `CMD ["node", "--max-semi-space-size=64", "dist/main.js"]`, as an argument list. */
function imageCommand(): string[] {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(dockerfile);
  if (!cmd) throw new Error('the Dockerfile has no CMD in exec form');
  return JSON.parse(cmd[1]) as string[];
}

interface Instance {
  port: number;
  url: string;
  process: ChildProcess;
  output: string;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

let ipCounter = 0;
/** A distinct documentation-range client address (RFC 5737) per call. */
const nextIp = () => `198.51.100.${(ipCounter++ % 250) + 1}`;

async function call(
  base: string,
  method: string,
  path: string,
  { token, body, ip = nextIp() }: { token?: string; body?: unknown; ip?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { 'x-forwarded-for': ip };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('three instances behind HAProxy on one database', () => {
  const build = compiledApp();
  const command = imageCommand();
  const mongoUri = testDatabaseUri('scale');
  const instances: Instance[] = [];
  let proxy: ChildProcess | undefined;
  let proxyOutput = '';
  let proxyUrl = '';
  let db: Connection;

  function start(port: number): Instance {
    // `node --max-semi-space-size=64 dist/main.js` in the image; here the same file of the test build.
    const [program, ...args] = command;
    const child = spawn(
      program === 'node' ? process.execPath : program,
      args.map((arg) => (arg.startsWith('dist/') ? join(build, relative('dist', arg)) : arg)),
      {
        cwd: build,
        env: {
          ...process.env,
          MONGODB_URI: mongoUri,
          HOST: '127.0.0.1',
          PORT: String(port),
          JWT_SECRET: TEST_JWT_SECRET,
          BCRYPT_ROUNDS: '10',
          ADMIN_EMAIL: TEST_ADMIN.email,
          ADMIN_PASSWORD: TEST_ADMIN.password,
          TRUST_PROXY: '127.0.0.1',
          SESSION_CACHE_TTL_MS: String(SESSION_CACHE_TTL_MS),
          SHUTDOWN_DRAIN_MS: String(SHUTDOWN_DRAIN_MS),
          AUTH_RATE_LIMIT: String(AUTH_RATE_LIMIT),
          LOGIN_MAX_FAILURES_PER_ACCOUNT: String(LOGIN_MAX_FAILURES_PER_ACCOUNT),
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const instance: Instance = {
      port,
      url: `http://127.0.0.1:${port}/api`,
      process: child,
      output: '',
    };
    child.stdout?.on('data', (chunk: Buffer) => (instance.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (instance.output += chunk.toString()));
    return instance;
  }

  async function waitHealthy(instance: Instance): Promise<void> {
    const status = await pollUntil(
      () =>
        fetch(`${instance.url}/health`).then(
          (r) => r.status,
          () => 0,
        ),
      (s) => s === 200 || instance.process.exitCode !== null,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    if (status !== 200)
      throw new Error(`instance on ${instance.port} not healthy:\n${instance.output}`);
  }

  /** HAProxy needs two passing checks (rise 2) before it sends traffic to a (re)started instance. */
  const waitInRotation = () => sleep(CHECK_INTERVAL_MS * 4);

  function stopped(child: ChildProcess): Promise<number | null> {
    if (child.exitCode !== null || child.signalCode !== null)
      return Promise.resolve(child.exitCode);
    return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  beforeAll(async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    // The first instance seeds the admin alone; the other two start together.
    instances.push(start(ports[0]));
    await waitHealthy(instances[0]);
    instances.push(start(ports[1]), start(ports[2]));
    await Promise.all(instances.slice(1).map(waitHealthy));

    proxyUrl = `http://127.0.0.1:${ports[3]}/api`;
    proxy = spawn('haproxy', ['-db', '-f', join(root, 'deploy/haproxy.cfg')], {
      env: {
        ...process.env,
        HAPROXY_BIND: `127.0.0.1:${ports[3]}`,
        API1_ADDR: `127.0.0.1:${ports[0]}`,
        API2_ADDR: `127.0.0.1:${ports[1]}`,
        API3_ADDR: `127.0.0.1:${ports[2]}`,
        HAPROXY_CHECK_INTERVAL: `${CHECK_INTERVAL_MS}ms`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proxy.stdout?.on('data', (chunk: Buffer) => (proxyOutput += chunk.toString()));
    proxy.stderr?.on('data', (chunk: Buffer) => (proxyOutput += chunk.toString()));
    const status = await pollUntil(
      () =>
        fetch(`${proxyUrl}/health`).then(
          (r) => r.status,
          () => 0,
        ),
      (s) => s === 200 || proxy?.exitCode !== null,
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    if (status !== 200) throw new Error(`HAProxy did not start:\n${proxyOutput}`);
    await waitInRotation();
    db = await createConnection(mongoUri).asPromise();
  }, 60_000);

  afterAll(async () => {
    for (const child of [proxy, ...instances.map((i) => i.process)]) {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await stopped(child);
      }
    }
    await db?.close();
  });

  async function signupAndLogin(base = proxyUrl): Promise<{
    id: string;
    email: string;
    password: string;
    token: string;
    refreshToken: string;
  }> {
    const email = `scale-${randomBytes(5).toString('hex')}@example.com`;
    const signup = await call(base, 'POST', '/auth/signup', {
      body: { email, password: STRONG_PASSWORD, name: 'Scale' },
    });
    expect(signup.status).toBe(201);
    const login = await call(base, 'POST', '/auth/login', {
      body: { email, password: STRONG_PASSWORD },
    });
    expect(login.status).toBe(200);
    return {
      id: signup.body.id as string,
      email,
      password: STRONG_PASSWORD,
      token: login.body.accessToken as string,
      refreshToken: login.body.refreshToken as string,
    };
  }

  /** GET /users/me on every instance directly and through the proxy. */
  async function meEverywhere(token: string): Promise<number[]> {
    return Promise.all(
      [...instances.map((i) => i.url), proxyUrl].map(
        async (base) => (await call(base, 'GET', '/users/me', { token })).status,
      ),
    );
  }

  /** Polls every instance directly until each refuses the token; returns their last answers. */
  async function refusedEverywhere(token: string, refusal = 401): Promise<number[]> {
    return Promise.all(
      instances.map((instance) =>
        pollUntil(
          async () => (await call(instance.url, 'GET', '/users/me', { token })).status,
          (status) => status === refusal,
          { timeoutMs: REVOCATION_DEADLINE_MS, intervalMs: 50 },
        ),
      ),
    );
  }

  it('runs the image start command and the deploy files name the same pieces', () => {
    expect(command).toEqual(['node', '--max-semi-space-size=64', 'dist/main.js']);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.start).toBe(command.join(' '));
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^HEALTHCHECK [^]*?\/api\/health/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER (?!root\b)\S+/m);
    const compose = readFileSync(join(root, 'deploy/compose.yaml'), 'utf8');
    expect(compose).toContain('./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro');
  });

  it('logs in on one instance, refreshes on another, and every instance accepts the tokens', async () => {
    const [a, b, c] = instances.map((i) => i.url);
    const user = await signupAndLogin(a);
    expect(await meEverywhere(user.token)).toEqual([200, 200, 200, 200]);
    const refreshed = await call(b, 'POST', '/auth/refresh', {
      body: { refreshToken: user.refreshToken },
    });
    expect(refreshed.status).toBe(200);
    expect(await meEverywhere(refreshed.body.accessToken as string)).toEqual([200, 200, 200, 200]);
    // The rotated token is refused everywhere, the new one works on the third instance.
    const again = await call(c, 'POST', '/auth/refresh', {
      body: { refreshToken: refreshed.body.refreshToken },
    });
    expect(again.status).toBe(200);
  });

  it('logout through the proxy refuses the access token on every instance within the cache TTL', async () => {
    const user = await signupAndLogin();
    // Every instance has the session cached as valid.
    expect(await meEverywhere(user.token)).toEqual([200, 200, 200, 200]);
    const out = await call(proxyUrl, 'POST', '/auth/logout', {
      body: { refreshToken: user.refreshToken },
    });
    expect(out.status).toBe(204);
    expect(await refusedEverywhere(user.token)).toEqual([401, 401, 401]);
  });

  it('a password change through the proxy refuses the old access token on every instance', async () => {
    const user = await signupAndLogin();
    expect(await meEverywhere(user.token)).toEqual([200, 200, 200, 200]);
    const changed = await call(proxyUrl, 'PATCH', '/auth/password', {
      token: user.token,
      body: { currentPassword: user.password, newPassword: 'An0ther!pass-word' },
    });
    expect(changed.status).toBe(204);
    expect(await refusedEverywhere(user.token)).toEqual([401, 401, 401]);
  });

  it('an admin disabling an account through the proxy refuses its token on every instance', async () => {
    const user = await signupAndLogin();
    const admin = await call(proxyUrl, 'POST', '/auth/login', { body: TEST_ADMIN });
    expect(admin.status).toBe(200);
    expect(await meEverywhere(user.token)).toEqual([200, 200, 200, 200]);
    const disabled = await call(proxyUrl, 'PATCH', `/users/${user.id}`, {
      token: admin.body.accessToken as string,
      body: { active: false },
    });
    expect(disabled.status).toBe(200);
    // 403: the token is valid, the account is disabled.
    expect(await refusedEverywhere(user.token, 403)).toEqual([403, 403, 403]);
  });

  /** A new API key of the user holding the token (a fresh login is a recent authentication). */
  async function createApiKey(
    token: string,
    scopes: string[],
  ): Promise<{ id: string; key: string }> {
    const created = await call(proxyUrl, 'POST', '/auth/api-keys', {
      token,
      body: { name: 'scale', scopes },
    });
    expect(created.status).toBe(201);
    return { id: created.body.id as string, key: created.body.key as string };
  }

  it('an API key revoked through the proxy is refused on every instance within the cache TTL', async () => {
    const user = await signupAndLogin();
    const { id, key } = await createApiKey(user.token, ['account:read']);
    // Every instance has the key cached as valid.
    expect(await meEverywhere(key)).toEqual([200, 200, 200, 200]);
    const revoked = await call(proxyUrl, 'DELETE', `/auth/api-keys/${id}`, { token: user.token });
    expect(revoked.status).toBe(204);
    expect(await refusedEverywhere(key)).toEqual([401, 401, 401]);
  });

  it("an admin's key loses the admin scope on every instance within the cache TTL of a demotion", async () => {
    const root = await call(proxyUrl, 'POST', '/auth/login', { body: TEST_ADMIN });
    const rootToken = root.body.accessToken as string;
    const user = await signupAndLogin();
    const promoted = await call(proxyUrl, 'PATCH', `/users/${user.id}`, {
      token: rootToken,
      body: { role: 'admin' },
    });
    expect(promoted.status).toBe(200);
    const { key } = await createApiKey(user.token, ['admin']);
    const listEverywhere = (expected: number) =>
      Promise.all(
        instances.map((instance) =>
          pollUntil(
            async () => (await call(instance.url, 'GET', '/users', { token: key })).status,
            (status) => status === expected,
            { timeoutMs: REVOCATION_DEADLINE_MS, intervalMs: 50 },
          ),
        ),
      );
    expect(await listEverywhere(200)).toEqual([200, 200, 200]);
    const demoted = await call(proxyUrl, 'PATCH', `/users/${user.id}`, {
      token: rootToken,
      body: { role: 'user' },
    });
    expect(demoted.status).toBe(200);
    expect(await listEverywhere(403)).toEqual([403, 403, 403]);
  });

  it('one refresh token sent to two instances at once: at most one succeeds and the session ends', async () => {
    const user = await signupAndLogin();
    const answers = await Promise.all(
      instances
        .slice(0, 2)
        .map((i) =>
          call(i.url, 'POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } }),
        ),
    );
    // SPEC: at most one succeeds. The loser's reuse detection may end the session before the
    // winner's last check, and then both are refused; never may both get tokens.
    const statuses = answers.map((a) => a.status).sort();
    expect([
      [200, 401],
      [401, 401],
    ]).toContainEqual(statuses);
    // Reuse detection ended the whole session: the login's access token is refused everywhere,
    // and so are the winner's new tokens, if there was a winner.
    expect(await refusedEverywhere(user.token)).toEqual([401, 401, 401]);
    const again = await call(proxyUrl, 'POST', '/auth/refresh', {
      body: { refreshToken: user.refreshToken },
    });
    expect(again.status).toBe(401);
    const winner = answers.find((a) => a.status === 200);
    if (winner) {
      const next = await call(proxyUrl, 'POST', '/auth/refresh', {
        body: { refreshToken: winner.body.refreshToken },
      });
      expect(next.status).toBe(401);
      expect(await refusedEverywhere(winner.body.accessToken as string)).toEqual([401, 401, 401]);
    }
  });

  it('stops brute force on one account spread over all instances at the configured limit', async () => {
    const user = await signupAndLogin();
    const attacker = nextIp();
    // Round robin: the guesses reach the three instances in turn.
    for (let i = 0; i < LOGIN_MAX_FAILURES_PER_ACCOUNT; i++) {
      const guess = await call(proxyUrl, 'POST', '/auth/login', {
        ip: attacker,
        body: { email: user.email, password: `Wrong-guess-${i}!` },
      });
      expect(guess.status).toBe(401);
    }
    // Past the limit, every instance refuses this client, even the right password.
    for (const base of [...instances.map((i) => i.url), proxyUrl]) {
      const res = await call(base, 'POST', '/auth/login', {
        ip: attacker,
        body: { email: user.email, password: user.password },
      });
      expect(res.status).toBe(429);
      expect(res.body.accessToken).toBeUndefined();
    }
  });

  it('holds the per-IP auth rate limit across instances: the limit in all, not three times it', async () => {
    const client = nextIp();
    const statuses: number[] = [];
    for (let i = 0; i < AUTH_RATE_LIMIT + 1; i++) {
      const res = await call(proxyUrl, 'POST', '/auth/refresh', {
        ip: client,
        body: { refreshToken: randomBytes(32).toString('base64url') },
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([...Array<number>(AUTH_RATE_LIMIT).fill(401), 429]);
    for (const instance of instances) {
      const res = await call(instance.url, 'POST', '/auth/login', {
        ip: client,
        body: { email: 'nobody@example.com', password: STRONG_PASSWORD },
      });
      expect(res.status).toBe(429);
    }
  });

  it('loses no request over a rolling restart under steady traffic', async () => {
    const user = await signupAndLogin();
    const acknowledged: string[] = [];
    const failures: string[] = [];
    let running = true;
    const worker = async (n: number) => {
      for (let i = 0; running; i++) {
        try {
          const res = await call(proxyUrl, 'POST', '/todos', {
            token: user.token,
            body: { title: `worker ${n} todo ${i}` },
          });
          if (res.status === 201) acknowledged.push(res.body.id as string);
          else failures.push(`${res.status} ${JSON.stringify(res.body)}`);
        } catch (error) {
          failures.push(String(error));
        }
        await sleep(10);
      }
    };
    const traffic = [0, 1].map(worker);

    for (let i = 0; i < instances.length; i++) {
      const old = instances[i];
      const before = acknowledged.length;
      old.process.kill('SIGTERM');
      expect(await stopped(old.process)).toBe(0);
      instances[i] = start(old.port);
      await waitHealthy(instances[i]);
      await waitInRotation();
      // Traffic kept flowing while this instance was away.
      expect(acknowledged.length).toBeGreaterThan(before);
    }
    running = false;
    await Promise.all(traffic);

    expect(failures).toEqual([]);
    expect(acknowledged.length).toBeGreaterThan(0);
    const stored = await db
      .collection('todos')
      .countDocuments({ _id: { $in: acknowledged.map((id) => new Types.ObjectId(id)) } });
    expect(stored).toBe(acknowledged.length);
  }, 60_000);
});

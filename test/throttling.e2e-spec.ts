import { randomBytes } from 'node:crypto';

import type { Response } from 'supertest';
import request from 'supertest';

import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';
import { connectionOf } from './support/db.js';
import type { TestUser } from './support/users.js';
import { signupAndLogin, STRONG_PASSWORD } from './support/users.js';

type App = TestApp['app'];

const WRONG_PASSWORD = 'Wrong-pass-1!';
const WINDOW_SECONDS = 900;

const login = (app: App, email: string, password: string, forwardedFor?: string) => {
  const req = request(app.getHttpServer()).post('/api/auth/login');
  if (forwardedFor) req.set('X-Forwarded-For', forwardedFor);
  return req.send({ email, password });
};

/** Sequentially, so each attempt sees the previous ones. */
async function failLogins(app: App, email: string, times: number, forwardedFor?: () => string) {
  for (let i = 0; i < times; i++) {
    const res = await login(app, email, WRONG_PASSWORD, forwardedFor?.());
    expect(res.status).toBe(401);
  }
}

function expectThrottled(res: Response, maxSeconds: number): void {
  expect(res.status).toBe(429);
  expect(res.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
  expect(res.body.accessToken).toBeUndefined();
  expect(res.headers['retry-after']).toMatch(/^\d+$/);
  const seconds = Number(res.headers['retry-after']);
  expect(seconds).toBeGreaterThan(0);
  expect(seconds).toBeLessThanOrEqual(maxSeconds);
}

let ipCounter = 0;
/** A distinct documentation-range address per call (RFC 5737). */
const nextIp = () => `203.0.113.${(ipCounter++ % 250) + 1}`;

const failureIps = async (app: App, email: string) =>
  (await connectionOf(app).collection('login_failures').find({ email }).toArray()).map(
    (doc) => doc.ip as string,
  );

describe('failed-login throttling per account', () => {
  const env = { LOGIN_MAX_FAILURES_PER_ACCOUNT: '3' };
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    a = await createTestApp({ label: 'throttle_account', env });
    b = await createTestApp({ mongoUri: a.mongoUri, env });
  });

  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('answers 429 with Retry-After to that client after its limit, even to the right password', async () => {
    const user = await signupAndLogin(a.app);
    await failLogins(a.app, user.email, 3);
    expectThrottled(await login(a.app, user.email, user.password), WINDOW_SECONDS);
    expectThrottled(await login(a.app, user.email, WRONG_PASSWORD), WINDOW_SECONDS);
  });

  it('throttles unknown emails the same way', async () => {
    const email = `ghost-${randomBytes(4).toString('hex')}@example.com`;
    await failLogins(a.app, email, 3);
    expectThrottled(await login(a.app, email, STRONG_PASSWORD), WINDOW_SECONDS);
  });

  it('resets the counter on a successful login before the limit', async () => {
    const user = await signupAndLogin(a.app);
    await failLogins(a.app, user.email, 2);
    await login(a.app, user.email, user.password).expect(200);
    await failLogins(a.app, user.email, 2);
    await login(a.app, user.email, user.password).expect(200);
    expect(await failureIps(a.app, user.email)).toEqual([]);
  });

  it('keeps one counter across instances sharing the database', async () => {
    const user = await signupAndLogin(a.app);
    await failLogins(a.app, user.email, 3);
    expectThrottled(await login(b.app, user.email, user.password), WINDOW_SECONDS);
  });

  it('ignores X-Forwarded-For without TRUST_PROXY: rotating it does not reset anything', async () => {
    const user = await signupAndLogin(a.app);
    await failLogins(a.app, user.email, 3, nextIp);
    expectThrottled(await login(a.app, user.email, user.password, nextIp()), WINDOW_SECONDS);
    const ips = await failureIps(a.app, user.email);
    expect(ips).toHaveLength(3);
    for (const ip of ips) expect(ip).not.toMatch(/^203\.0\.113\./);
  });

  it('lets three times the limit of simultaneous logins with the right password all in', async () => {
    const user = await signupAndLogin(a.app);
    const results = await Promise.all(
      Array.from({ length: 9 }, (_, i) => login(i % 2 ? b.app : a.app, user.email, user.password)),
    );
    expect(results.map((r) => r.status)).toEqual(Array.from({ length: 9 }, () => 200));
    for (const res of results) expect(typeof res.body.accessToken).toBe('string');
    expect(await failureIps(a.app, user.email)).toEqual([]);
  });

  it('lets at most the limit of 20 parallel guesses through', async () => {
    const user = await signupAndLogin(a.app);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        login(i % 2 ? b.app : a.app, user.email, WRONG_PASSWORD),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    // Refused attempts are not counted, so guessing may go on, one at a time, until 429:
    // over the burst and the rest together, at most the limit of passwords were checked.
    let checked = statuses.filter((s) => s === 401).length;
    while (checked <= 3 && (await login(a.app, user.email, WRONG_PASSWORD)).status === 401) {
      checked++;
    }
    expect(checked).toBeLessThanOrEqual(3);
    expectThrottled(await login(a.app, user.email, user.password), WINDOW_SECONDS);
  });
});

describe('failed-login throttling per IP', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      label: 'throttle_ip',
      env: { LOGIN_MAX_FAILURES_PER_IP: '3', LOGIN_MAX_FAILURES_PER_ACCOUNT: '100' },
    });
  });

  afterAll(() => t.close());

  it('answers 429 once one IP has failed on the limit of different accounts', async () => {
    const victim = await signupAndLogin(t.app);
    for (let i = 0; i < 3; i++) {
      await failLogins(t.app, `spray-${i}-${randomBytes(3).toString('hex')}@example.com`, 1);
    }
    expectThrottled(await login(t.app, victim.email, victim.password), WINDOW_SECONDS);
  });
});

describe('failed-login throttling behind a trusted proxy (TRUST_PROXY=127.0.0.1)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      label: 'throttle_proxy',
      env: {
        TRUST_PROXY: '127.0.0.1',
        LOGIN_MAX_FAILURES_PER_IP: '3',
        LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
      },
    });
  });

  afterAll(() => t.close());

  it('counts per-IP failures by the forwarded client address', async () => {
    const attacker = nextIp();
    const victim = await signupAndLogin(t.app);
    for (let i = 0; i < 3; i++) {
      await failLogins(
        t.app,
        `proxy-${i}-${randomBytes(3).toString('hex')}@example.com`,
        1,
        () => attacker,
      );
    }
    expectThrottled(await login(t.app, victim.email, victim.password, attacker), WINDOW_SECONDS);
    // Another client behind the same proxy is not affected.
    await login(t.app, victim.email, victim.password, nextIp()).expect(200);
  });

  it('takes the right-most untrusted address: a rotating left-most entry does not escape the limit', async () => {
    const client = '198.51.100.7';
    const victim = await signupAndLogin(t.app);
    const emails = Array.from(
      { length: 3 },
      (_, i) => `xff-${i}-${randomBytes(3).toString('hex')}@example.com`,
    );
    for (const email of emails) {
      await failLogins(t.app, email, 1, () => `${nextIp()}, ${client}`);
      expect(await failureIps(t.app, email)).toEqual([client]);
    }
    expectThrottled(
      await login(t.app, victim.email, victim.password, `${nextIp()}, ${client}`),
      WINDOW_SECONDS,
    );
  });

  it('records a forwarded address with a port as the address itself', async () => {
    const attacker = nextIp();
    const email = `port-${randomBytes(3).toString('hex')}@example.com`;
    await failLogins(t.app, email, 2, () => `${attacker}:${40000 + ipCounter}`);
    expect(await failureIps(t.app, email)).toEqual([attacker, attacker]);
    const v6 = `port6-${randomBytes(3).toString('hex')}@example.com`;
    await failLogins(t.app, v6, 1, () => '[2001:DB8:66::1]:8443');
    expect(await failureIps(t.app, v6)).toEqual(['2001:db8:66::/64']);
  });
});

describe('per-account limits: guessing stays bounded, the owner is not locked out', () => {
  /** Per (account, client) limit, and the account-wide count after which attempts are spaced. */
  const PER_CLIENT = 2;
  const SLOWDOWN_AFTER = 3;
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      label: 'throttle_owner',
      env: {
        TRUST_PROXY: '127.0.0.1',
        LOGIN_MAX_FAILURES_PER_ACCOUNT: String(PER_CLIENT),
        LOGIN_ACCOUNT_SLOWDOWN_AFTER: String(SLOWDOWN_AFTER),
      },
    });
  });

  afterAll(() => t.close());

  it('an attacker spread over many addresses gets a bounded number of password checks', async () => {
    const user = await signupAndLogin(t.app);
    const pool = Array.from({ length: 5 }, nextIp);
    const started = Date.now();
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      // Half the guesses from a fresh address each, half from a few reused ones.
      const ip = i % 2 ? nextIp() : pool[(i / 2) % pool.length];
      const res = await login(t.app, user.email, `${WRONG_PASSWORD}${i}`, ip);
      if (res.status === 429) expectThrottled(res, WINDOW_SECONDS);
      statuses.push(res.status);
    }
    const elapsedSeconds = (Date.now() - started) / 1000;
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    // Past SLOWDOWN_AFTER, first guesses from new clients are spaced 1 s, 2 s, 4 s … apart on
    // the account, so at most log2(1 + elapsed) more get checked; each client that got a check
    // may then fail at most PER_CLIENT times in all.
    const firstGuesses = SLOWDOWN_AFTER + Math.floor(Math.log2(1 + elapsedSeconds));
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(firstGuesses * PER_CLIENT);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
  });

  it('lets the owner log in from a clean address while an attacker hammers the account', async () => {
    const user = await signupAndLogin(t.app);
    const attackers = [nextIp(), nextIp()];
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const ip = attackers[i % attackers.length];
      statuses.push((await login(t.app, user.email, WRONG_PASSWORD, ip)).status);
    }
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    // The account is past its slowdown threshold and the attacker's clients stay refused, even
    // with the right password…
    expect((await failureIps(t.app, user.email)).length).toBeGreaterThanOrEqual(SLOWDOWN_AFTER);
    expectThrottled(await login(t.app, user.email, user.password, attackers[0]), WINDOW_SECONDS);
    // …but the owner, from an address with no failures on the account, gets in.
    const res = await login(t.app, user.email, user.password, nextIp()).expect(200);
    expect(res.body.accessToken).toEqual(expect.any(String));
  });

  it("the owner logging in does not wipe the attacker's failures", async () => {
    const user = await signupAndLogin(t.app);
    const attacker = nextIp();
    await failLogins(t.app, user.email, PER_CLIENT, () => attacker);
    await login(t.app, user.email, user.password, nextIp()).expect(200);
    expect(await failureIps(t.app, user.email)).toEqual([attacker, attacker]);
    expectThrottled(await login(t.app, user.email, user.password, attacker), WINDOW_SECONDS);
  });
});

describe('general rate limit on /api/auth/*', () => {
  const LIMIT = 5;
  const WINDOW = 60;
  let proxied: TestApp;
  let direct: TestApp;
  let other: TestApp;
  let user: Pick<TestUser, 'email' | 'password'>;

  beforeAll(async () => {
    // Behind a trusted proxy each test can be its own client (a distinct forwarded address).
    proxied = await createTestApp({
      label: 'rate_limit',
      env: { AUTH_RATE_LIMIT: String(LIMIT), TRUST_PROXY: '127.0.0.1' },
    });
    direct = await createTestApp({
      mongoUri: proxied.mongoUri,
      env: { AUTH_RATE_LIMIT: String(LIMIT) },
    });
    // From an address of its own: the counts are shared by every app on the database.
    user = {
      email: `rl-user-${randomBytes(4).toString('hex')}@example.com`,
      password: STRONG_PASSWORD,
    };
    await request(proxied.app.getHttpServer())
      .post('/api/auth/signup')
      .set('X-Forwarded-For', nextIp())
      .send({ ...user, name: 'Rate' })
      .expect(201);
    other = await createTestApp({
      mongoUri: proxied.mongoUri,
      env: { AUTH_RATE_LIMIT: String(LIMIT), TRUST_PROXY: '127.0.0.1' },
    });
  });

  afterAll(async () => {
    await proxied.close();
    await direct.close();
    await other.close();
  });

  /** Sends `LIMIT` allowed requests, then expects the next one to be refused. */
  async function expectLimited(send: () => request.Test): Promise<void> {
    for (let i = 0; i < LIMIT; i++) {
      expect((await send()).status).not.toBe(429);
    }
    expectThrottled(await send(), WINDOW);
  }

  it('sends X-RateLimit-* headers with the refusal only, where the count is exact', async () => {
    const ip = nextIp();
    const send = () =>
      request(proxied.app.getHttpServer())
        .post('/api/auth/login')
        .set('X-Forwarded-For', ip)
        .send({ email: user.email, password: user.password });
    for (let i = 0; i < LIMIT; i++) {
      const admitted = await send();
      expect(admitted.status).toBe(200);
      expect(admitted.headers['x-ratelimit-remaining']).toBeUndefined();
    }
    const refused = await send();
    expectThrottled(refused, WINDOW);
    expect(refused.headers['x-ratelimit-limit']).toBe(String(LIMIT));
    expect(refused.headers['x-ratelimit-remaining']).toBe('0');
  });

  it('limits login', async () => {
    const ip = nextIp();
    await expectLimited(() =>
      request(proxied.app.getHttpServer())
        .post('/api/auth/login')
        .set('X-Forwarded-For', ip)
        .send({ email: user.email, password: user.password }),
    );
  });

  it('limits signup', async () => {
    const ip = nextIp();
    await expectLimited(() =>
      request(proxied.app.getHttpServer())
        .post('/api/auth/signup')
        .set('X-Forwarded-For', ip)
        .send({
          email: `rl-${randomBytes(4).toString('hex')}@example.com`,
          password: STRONG_PASSWORD,
          name: 'Rate',
        }),
    );
  });

  it('limits refresh', async () => {
    const ip = nextIp();
    await expectLimited(() =>
      request(proxied.app.getHttpServer())
        .post('/api/auth/refresh')
        .set('X-Forwarded-For', ip)
        .send({ refreshToken: randomBytes(32).toString('base64url') }),
    );
  });

  it('holds across instances sharing the database: the limit in all, not per instance', async () => {
    const ip = nextIp();
    const apps = [proxied, other];
    let i = 0;
    // One client alternating between two instances.
    await expectLimited(() =>
      request(apps[i++ % 2].app.getHttpServer())
        .post('/api/auth/login')
        .set('X-Forwarded-For', ip)
        .send({ email: user.email, password: user.password }),
    );
    for (const app of [proxied, other]) {
      expectThrottled(
        await request(app.app.getHttpServer())
          .post('/api/auth/refresh')
          .set('X-Forwarded-For', ip)
          .send({ refreshToken: randomBytes(32).toString('base64url') }),
        WINDOW,
      );
    }
  });

  it('does not limit other routes', async () => {
    const ip = nextIp();
    for (let i = 0; i < LIMIT * 4; i++) {
      await request(proxied.app.getHttpServer())
        .get('/api/movies')
        .set('X-Forwarded-For', ip)
        .expect(200);
      await request(proxied.app.getHttpServer())
        .get('/api/auth/jwks.json')
        .set('X-Forwarded-For', ip)
        .expect(200);
    }
  });

  it('does not count preflights (OPTIONS) to the auth routes', async () => {
    const ip = nextIp();
    for (let i = 0; i < LIMIT * 2; i++) {
      const res = await request(proxied.app.getHttpServer())
        .options('/api/auth/login')
        .set('X-Forwarded-For', ip)
        .set('Origin', 'https://elsewhere.example')
        .set('Access-Control-Request-Method', 'POST');
      expect(res.status).toBe(404);
    }
    const login = await request(proxied.app.getHttpServer())
      .post('/api/auth/login')
      .set('X-Forwarded-For', ip)
      .send({ email: user.email, password: user.password });
    expect(login.status).toBe(200);
  });

  it('keys a client by the right-most untrusted address: rotating the left-most does not escape', async () => {
    const ip = nextIp();
    await expectLimited(() =>
      request(proxied.app.getHttpServer())
        .post('/api/auth/login')
        .set('X-Forwarded-For', `${nextIp()}, ${ip}`)
        .send({ email: user.email, password: user.password }),
    );
  });

  it('keys a forwarded address with a port as the address: `ip:port` does not escape `ip`', async () => {
    const ip = nextIp();
    let i = 0;
    await expectLimited(() =>
      request(proxied.app.getHttpServer())
        .post('/api/auth/login')
        .set('X-Forwarded-For', ++i % 2 ? `${ip}:${1000 + i}` : ip)
        .send({ email: user.email, password: user.password }),
    );
  });

  it('keys a bracketed IPv6 address with a port by its /64', async () => {
    let i = 0;
    await expectLimited(() =>
      request(proxied.app.getHttpServer())
        .post('/api/auth/login')
        .set('X-Forwarded-For', `[2001:db8:65:65::${(++i).toString(16)}]:${4000 + i}`)
        .send({ email: user.email, password: user.password }),
    );
  });

  it('counts a forwarded value that is no IP address under the connecting address', async () => {
    // A database of its own: the connecting address (127.0.0.1) is every direct test's client.
    const own = await createTestApp({
      label: 'rate_limit_garbage',
      env: { AUTH_RATE_LIMIT: String(LIMIT), TRUST_PROXY: '127.0.0.1' },
    });
    try {
      let i = 0;
      await expectLimited(() =>
        request(own.app.getHttpServer())
          .post('/api/auth/login')
          .set('X-Forwarded-For', `not-an-address-${++i}`)
          .send({ email: user.email, password: user.password }),
      );
    } finally {
      await own.close();
    }
  });

  it('keys an IPv6 client by its /64: rotating the interface id does not escape', async () => {
    let i = 0;
    await expectLimited(() =>
      request(proxied.app.getHttpServer())
        .post('/api/auth/login')
        .set('X-Forwarded-For', `2001:db8:64:64::${(++i).toString(16)}`)
        .send({ email: user.email, password: user.password }),
    );
  });

  it('is not reset by a rotating X-Forwarded-For without TRUST_PROXY', async () => {
    await expectLimited(() =>
      request(direct.app.getHttpServer())
        .post('/api/auth/login')
        .set('X-Forwarded-For', nextIp())
        .send({ email: user.email, password: user.password }),
    );
    await request(direct.app.getHttpServer()).get('/api/movies').expect(200);
  });
});

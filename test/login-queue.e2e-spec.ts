import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import request from 'supertest';

import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';
import { connectionOf } from './support/db.js';
import type { TestUser } from './support/users.js';
import { signupAndLogin, STRONG_PASSWORD } from './support/users.js';

/**
 * The password hashing queue (issue 21, SPEC §9): one hash at a time and a short wait allowed, so
 * a burst of logins overflows it. What overflows is answered 503 with Retry-After, logged, and
 * never counted as a failed password; what fits is answered as usual.
 */
describe('password hashing queue under a burst', () => {
  const BURST = 24;
  const logs: string[] = [];
  let t: TestApp;
  let user: TestUser;

  const refusalLines = () =>
    logs
      .join('')
      .split('\n')
      .filter((line) => line.includes('Password hashing queue full'));
  const failuresOf = (email: string) =>
    connectionOf(t.app).collection('login_failures').countDocuments({ email });
  const burst = (body: () => object, path = '/api/auth/login') =>
    Promise.all(
      Array.from({ length: BURST }, () => request(t.app.getHttpServer()).post(path).send(body())),
    );

  beforeAll(async () => {
    t = await createTestApp({
      label: 'login-queue',
      // Cost 12: each hash takes long enough, even on a fast machine, that a burst overflows.
      env: {
        LOG_LEVEL: 'warn',
        BCRYPT_ROUNDS: '12',
        LOGIN_QUEUE_CONCURRENCY: '1',
        LOGIN_QUEUE_TIMEOUT_MS: '150',
      },
      logDestination: { write: (chunk: string) => void logs.push(chunk) },
    });
    user = await signupAndLogin(t.app);
  });
  afterAll(() => t.close());
  beforeEach(() => void logs.splice(0));

  it('answers what overflows with 503 and Retry-After, logs each, and lets the rest log in', async () => {
    const answers = await burst(() => ({ email: user.email, password: user.password }));
    const statuses = answers.map((res) => res.status);
    const refused = answers.filter((res) => res.status === 503);
    expect(statuses.filter((status) => status !== 200 && status !== 503)).toEqual([]);
    expect(refused.length).toBeGreaterThan(0);
    expect(statuses).toContain(200);
    for (const res of refused) {
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(res.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
    }
    for (const res of answers.filter((r) => r.status === 200)) {
      const me = await request(t.app.getHttpServer())
        .get('/api/users/me')
        .set('Authorization', `Bearer ${res.body.accessToken}`);
      expect(me.status).toBe(200);
    }
    expect(refusalLines()).toHaveLength(refused.length);
    // Right passwords: every admitted attempt was cleared, and no refused one was recorded.
    expect(await failuresOf(user.email)).toBe(0);
  });

  it('refuses at the door: a login the queue cannot take is not counted by the per-IP limit', async () => {
    // The per-IP limit counts each request it lets in with one document (rate_limit_slots); a
    // login refused with 503 at the door never reaches it, so it costs no database write.
    const hits = connectionOf(t.app).collection('rate_limit_slots');
    const before = await hits.countDocuments();
    const answers = await burst(() => ({ email: user.email, password: user.password }));
    const refused = answers.filter((res) => res.status === 503).length;
    expect(refused).toBeGreaterThan(0);
    expect(await hits.countDocuments()).toBe(before + BURST - refused);
  });

  it('never counts a refused login as a failed password', async () => {
    const victim = await signupAndLogin(t.app);
    const answers = await burst(() => ({ email: victim.email, password: 'Wrong-pass-123' }));
    const wrong = answers.filter((res) => res.status === 401).length;
    const refused = answers.filter((res) => res.status === 503).length;
    const throttled = answers.filter((res) => res.status === 429).length;
    expect(refused).toBeGreaterThan(0);
    expect(wrong + refused + throttled).toBe(BURST);
    // Exactly the passwords that were checked and found wrong are counted.
    expect(await failuresOf(victim.email)).toBe(wrong);
  });

  it('puts signups in the same queue: refused ones create no account', async () => {
    const users = connectionOf(t.app).collection('users');
    const before = await users.countDocuments();
    let n = 0;
    const answers = await burst(
      () => ({
        email: `queued-${n++}-${Date.now()}@example.com`,
        password: STRONG_PASSWORD,
        name: 'Q',
      }),
      '/api/auth/signup',
    );
    const created = answers.filter((res) => res.status === 201).length;
    const refused = answers.filter((res) => res.status === 503).length;
    expect(refused).toBeGreaterThan(0);
    expect(created + refused).toBe(BURST);
    expect(await users.countDocuments()).toBe(before + created);
  });
});

/**
 * A login whose client gives up (closes its connection) while its password check waits in the
 * queue is dropped there: its bcrypt never runs and it opens no session.
 */
describe('password hashing queue and clients that leave', () => {
  let t: TestApp;
  let user: TestUser;

  beforeAll(async () => {
    t = await createTestApp({
      label: 'login-queue-gone',
      // One hash at a time at cost 12 and a long allowed wait: logins queue instead of being refused.
      env: { BCRYPT_ROUNDS: '12', LOGIN_QUEUE_CONCURRENCY: '1', LOGIN_QUEUE_TIMEOUT_MS: '30000' },
    });
    // A port of its own: the clients that leave need sockets this test can close.
    await t.app.listen(0, '127.0.0.1');
    user = await signupAndLogin(t.app);
  });
  afterAll(() => t.close());

  /** Sends a login over a socket of its own and returns a function that closes that socket. */
  function loginThenLeave(): () => void {
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    const body = JSON.stringify({ email: user.email, password: user.password });
    const sent = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/auth/login',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    sent.on('error', () => undefined);
    sent.end(body);
    return () => sent.destroy();
  }

  it('drops the checks of clients that left while they waited: no bcrypt, no session', async () => {
    const sessions = connectionOf(t.app).collection('sessions');
    const before = await sessions.countDocuments();
    // `.then` sends it now (supertest sends a request when it is awaited).
    const logIn = () =>
      request(t.app.getHttpServer())
        .post('/api/auth/login')
        .send({ email: user.email, password: user.password })
        .then((res) => res);
    // Two logins keep the one hashing slot busy; six more queue behind them, then leave.
    const busy = [logIn(), logIn()];
    await sleep(20);
    const leaving = Array.from({ length: 6 }, loginThenLeave);
    await sleep(100);
    leaving.forEach((leave) => leave());
    // Queued behind whatever was not dropped: once it is answered, the queue has run everything.
    const last = await logIn();
    expect((await Promise.all(busy)).map((res) => res.status)).toEqual([200, 200]);
    expect(last.status).toBe(200);
    expect(await sessions.countDocuments()).toBe(before + 3);
  });
});

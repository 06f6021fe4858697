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

import { jest } from '@jest/globals';
import request from 'supertest';

import { PasswordService } from '../../src/auth/password.service.js';
import type { TestApp } from '../support/app.js';
import { createTestApp } from '../support/app.js';
import { expectUnchangedAfter } from '../support/db.js';
import type { TestUser } from '../support/users.js';
import { signupAndLogin, STRONG_PASSWORD } from '../support/users.js';

/**
 * Guessing, flooding and oversized or pathological input. Each attack is refused (429, 413 or
 * 400, never 5xx), creates no session and changes no account; the server keeps answering.
 */
const WRONG = 'Wrong-pass-1!';
const LIMIT = 3;
/** Collections a refused guess may not touch (its failure record in login_failures is by design). */
const ACCOUNT_STATE = ['users', 'sessions', 'refresh_tokens', 'movies'];

describe('abuse', () => {
  let t: TestApp;
  let server: ReturnType<TestApp['app']['getHttpServer']>;

  beforeAll(async () => {
    t = await createTestApp({
      label: 'sec_abuse',
      env: { LOGIN_MAX_FAILURES_PER_ACCOUNT: String(LIMIT) },
    });
    server = t.app.getHttpServer();
  });

  afterAll(() => t.close());

  afterEach(() => jest.restoreAllMocks());

  const login = (email: string, password: string) =>
    request(server).post('/api/auth/login').send({ email, password });

  const stillServing = async () => {
    await request(server).get('/api/health').expect(200);
    await request(server).get('/api/movies').expect(200);
  };

  describe('credential guessing', () => {
    let victim: TestUser;

    beforeEach(async () => {
      victim = await signupAndLogin(t.app);
    });

    it('brute force on login: 429 after the limit, and no session even for the right password', async () => {
      for (let i = 0; i < LIMIT; i++) expect((await login(victim.email, WRONG)).status).toBe(401);
      const unchanged = await expectUnchangedAfter(t.app, ACCOUNT_STATE);
      const res = await login(victim.email, victim.password);
      expect(res.status).toBe(429);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(res.body.accessToken).toBeUndefined();
      await unchanged();
    });

    it('a burst of 20 parallel guesses gets at most the limit checked', async () => {
      const unchanged = await expectUnchangedAfter(t.app, ACCOUNT_STATE);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => login(victim.email, `${WRONG}${i}`)),
      );
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(LIMIT);
      expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
      await unchanged();
    });

    it('rotating X-Forwarded-For does not reset the per-account counter', async () => {
      for (let i = 0; i < LIMIT; i++) {
        const res = await login(victim.email, WRONG).set('X-Forwarded-For', `198.51.100.${i + 1}`);
        expect(res.status).toBe(401);
      }
      const unchanged = await expectUnchangedAfter(t.app, ACCOUNT_STATE);
      const res = await login(victim.email, victim.password).set(
        'X-Forwarded-For',
        '198.51.100.99',
      );
      expect(res.status).toBe(429);
      await unchanged();
    });

    it('guessing the current password through PATCH /auth/password is throttled too', async () => {
      const change = (currentPassword: string) =>
        request(server)
          .patch('/api/auth/password')
          .set(victim.auth)
          .send({ currentPassword, newPassword: 'Hij4cked!pass' });
      for (let i = 0; i < LIMIT; i++) expect((await change(`${WRONG}${i}`)).status).toBe(400);
      const unchanged = await expectUnchangedAfter(t.app, ACCOUNT_STATE);
      const res = await change(victim.password);
      expect(res.status).toBe(429);
      await unchanged();
    });
  });

  describe('oversized and pathological bodies', () => {
    it('a 1 MB password is refused with 413 before any hashing', async () => {
      const passwords = t.app.get(PasswordService);
      const hash = jest.spyOn(passwords, 'hash');
      const verify = jest.spyOn(passwords, 'verify');
      const unchanged = await expectUnchangedAfter(t.app);
      const huge = `Aa1!${'x'.repeat(1024 * 1024)}`;
      const signup = await request(server)
        .post('/api/auth/signup')
        .send({ email: 'huge@example.com', password: huge, name: 'Huge' });
      const loginRes = await login('huge@example.com', huge);
      expect([signup.status, loginRes.status]).toEqual([413, 413]);
      expect(signup.body).toMatchObject({ statusCode: 413 });
      expect(hash).not.toHaveBeenCalled();
      expect(verify).not.toHaveBeenCalled();
      await unchanged();
      await stillServing();
    });

    it('a password just under the body limit but over 256 characters is refused before hashing', async () => {
      const passwords = t.app.get(PasswordService);
      const verify = jest.spyOn(passwords, 'verify');
      const unchanged = await expectUnchangedAfter(t.app);
      const res = await login('someone@example.com', `Aa1!${'x'.repeat(90_000)}`);
      expect(res.status).toBe(400);
      expect(verify).not.toHaveBeenCalled();
      await unchanged();
    });

    it.each([
      ['arrays', (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`],
      ['objects', (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`],
    ])('deeply nested JSON (10k levels of %s) → 400, not 500', async (_kind, nest) => {
      const unchanged = await expectUnchangedAfter(t.app);
      const body = `{"email":"deep@example.com","password":"${STRONG_PASSWORD}","name":${nest(10_000)}}`;
      expect(body.length).toBeLessThan(100 * 1024);
      for (const path of ['/api/auth/signup', '/api/auth/login']) {
        const res = await request(server)
          .post(path)
          .set('Content-Type', 'application/json')
          .send(body);
        expect({ path, status: res.status }).toEqual({ path, status: 400 });
      }
      await unchanged();
      await stillServing();
    });

    it('nesting as deep as the body limit allows → 400, not 500', async () => {
      const depth = 49_000;
      const unchanged = await expectUnchangedAfter(t.app);
      const res = await request(server)
        .post('/api/auth/signup')
        .set('Content-Type', 'application/json')
        .send(`${'['.repeat(depth)}${']'.repeat(depth)}`);
      expect(res.status).toBe(400);
      await unchanged();
      await stillServing();
    });

    it('a huge JSON body (over the limit) → 413', async () => {
      const unchanged = await expectUnchangedAfter(t.app);
      const items = Array.from({ length: 30_000 }, (_, i) => `cast member ${i}`);
      const res = await request(server)
        .post('/api/auth/signup')
        .send({ email: 'many@example.com', password: STRONG_PASSWORD, name: 'Many', items });
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
      await unchanged();
      await stillServing();
    });
  });
});

describe('flooding the auth routes', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ label: 'sec_flood', env: { AUTH_RATE_LIMIT: '5' } });
  });

  afterAll(() => t.close());

  it('percent-encoding the path does not get around the /api/auth rate limit', async () => {
    const send = (path: string) =>
      request(t.app.getHttpServer())
        .post(path)
        .send({ email: 'nobody@example.com', password: STRONG_PASSWORD });
    // The encoded path reaches the login route (401, not 404)…
    expect((await send('/api/%61uth/login')).status).toBe(401);
    for (let i = 0; i < 4; i++) await send('/api/auth/login');
    const unchanged = await expectUnchangedAfter(t.app, ACCOUNT_STATE);
    // …and is counted like the plain one.
    for (const path of ['/api/%61uth/login', '/api/auth/%6cogin', '/api/auth/login']) {
      const res = await send(path);
      expect({ path, status: res.status }).toEqual({ path, status: 429 });
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
    await unchanged();
  });
});

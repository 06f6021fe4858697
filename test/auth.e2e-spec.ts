import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import request from 'supertest';

import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';
import { signupAndLogin, STRONG_PASSWORD } from './support/users.js';

describe('signup and login', () => {
  let t: TestApp;
  let server: ReturnType<TestApp['app']['getHttpServer']>;
  let users: ReturnType<Connection['collection']>;

  beforeAll(async () => {
    t = await createTestApp({ label: 'auth' });
    server = t.app.getHttpServer();
    users = t.app.get<Connection>(getConnectionToken()).collection('users');
  });

  afterAll(() => t.close());

  const signup = (body: object) => request(server).post('/api/auth/signup').send(body);

  it('creates a user and answers with the public view only', async () => {
    const res = await signup({
      email: '  Ada@Example.COM ',
      password: STRONG_PASSWORD,
      name: 'Ada',
    });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(
      [
        'active',
        'createdAt',
        'email',
        'emailVerified',
        'id',
        'mfaEnabled',
        'name',
        'role',
        'updatedAt',
      ].sort(),
    );
    expect(res.body).toMatchObject({
      email: 'ada@example.com',
      name: 'Ada',
      role: 'user',
      active: true,
    });
    expect(res.text).not.toMatch(/password|hash|\$2[aby]\$/i);
    const stored = await users.findOne({ email: 'ada@example.com' });
    expect(stored?.passwordHash).toMatch(/^\$2b\$10\$/);
  });

  it('refuses a second account with the same normalized email (409)', async () => {
    await signup({ email: 'dup@example.com', password: STRONG_PASSWORD, name: 'A' }).expect(201);
    const res = await signup({ email: ' DUP@example.com', password: STRONG_PASSWORD, name: 'B' });
    expect(res.status).toBe(409);
    expect(await users.countDocuments({ email: 'dup@example.com' })).toBe(1);
  });

  it('lets exactly one of two concurrent signups with one email win', async () => {
    const body = { email: 'race@example.com', password: STRONG_PASSWORD, name: 'Racer' };
    const results = await Promise.all([signup(body), signup(body), signup(body)]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409]);
    expect(await users.countDocuments({ email: 'race@example.com' })).toBe(1);
  });

  describe('password policy (ASVS 5.0 6.2 / NIST 800-63B: length and a common-password list)', () => {
    let seq = 0;
    const fresh = () => `pw-${++seq}-${Date.now()}@example.com`;
    const login = (email: string, password: string) =>
      request(server).post('/api/auth/login').send({ email, password });

    it.each([
      ['a passphrase of lower-case words and spaces', 'correct horse battery staple'],
      ['64 Cyrillic letters', 'щ'.repeat(32) + 'ж'.repeat(32)],
      ['64 CJK characters', '密码'.repeat(32)],
      ['128 emoji (code points, 512 bytes)', '🦊🐻'.repeat(64)],
      ['8 characters', 'gx7-tqmv'],
    ])('accepts %s at signup and login', async (_why, password) => {
      const email = fresh();
      await signup({ email, password, name: 'P' }).expect(201);
      await login(email, password).expect(200);
    });

    it.each([
      ['7 characters', 'gx7-tqm', /at least 8 characters/],
      ['129 characters', 'y'.repeat(129), /at most 128 characters/],
      ['a common password', 'password123', /too common/],
      ['a common password in capitals', 'LetMeIn1', /too common/],
      ['a common password with symbols appended', 'Password1!', /too common/],
      ['a common password with digits appended', 'Iloveyou2024', /too common/],
    ])('refuses %s (400 naming the rule)', async (_why, password, rule) => {
      const email = fresh();
      const res = await signup({ email, password, name: 'W' });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.message)).toMatch(rule);
      expect(await users.countDocuments({ email })).toBe(0);
    });

    it('applies the same rules to a new password', async () => {
      const user = await signupAndLogin(t.app);
      const res = await request(server)
        .patch('/api/auth/password')
        .set(user.auth)
        .send({ currentPassword: user.password, newPassword: 'qwerty123' });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.message)).toMatch(/newPassword is too common/);
    });

    it('never truncates at 72 bytes: two passwords sharing their first 72 bytes differ', async () => {
      const prefix = 'long passphrase shared by both '.padEnd(72, '.');
      const first = prefix + 'ending number one, which is rather long';
      const second = prefix + 'ending number two, which is rather long';
      expect(Buffer.byteLength(first)).toBeGreaterThanOrEqual(100);
      const email = fresh();
      await signup({ email, password: first, name: 'L' }).expect(201);
      await login(email, second).expect(401);
      await login(email, prefix).expect(401);
      await login(email, first).expect(200);
    });

    it('accepts a password of exactly 72 bytes, and one short in characters but long in bytes', async () => {
      for (const password of ['Aa1!' + 'x'.repeat(68), 'é'.repeat(39)]) {
        const email = fresh();
        await signup({ email, password, name: 'E' }).expect(201);
        await login(email, password).expect(200);
        await login(email, password.slice(0, -1)).expect(401);
      }
    });
  });

  it('refuses an invalid email', async () => {
    await signup({ email: 'not-an-email', password: STRONG_PASSWORD, name: 'X' }).expect(400);
  });

  it('never applies role or active from the signup body', async () => {
    const res = await signup({
      email: 'sneaky@example.com',
      password: STRONG_PASSWORD,
      name: 'Sneaky',
      role: 'admin',
      active: true,
    });
    expect(res.status).toBe(400);
    expect(await users.countDocuments({ email: 'sneaky@example.com' })).toBe(0);
    expect(
      await users.countDocuments({ role: 'admin', email: { $ne: 'root@guardhouse.test' } }),
    ).toBe(0);
  });

  it('logs in with the right password and returns a bearer token', async () => {
    const user = await signupAndLogin(t.app);
    expect(user.token.split('.')).toHaveLength(3);
    const res = await request(server).get('/api/users/me').set(user.auth).expect(200);
    expect(res.body.email).toBe(user.email);
  });

  it('logs in with a differently-cased email', async () => {
    await signup({ email: 'case@example.com', password: STRONG_PASSWORD, name: 'C' }).expect(201);
    const res = await request(server)
      .post('/api/auth/login')
      .send({ email: 'CASE@Example.com', password: STRONG_PASSWORD });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
  });

  it('gives identical 401 bodies for an unknown email and a wrong password', async () => {
    await signup({ email: 'known@example.com', password: STRONG_PASSWORD, name: 'K' }).expect(201);
    const unknown = await request(server)
      .post('/api/auth/login')
      .send({ email: 'nobody@example.com', password: STRONG_PASSWORD });
    const wrong = await request(server)
      .post('/api/auth/login')
      .send({ email: 'known@example.com', password: 'Wrong-pass-1!' });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    expect(unknown.headers['www-authenticate']).toBe('Bearer');
  });

  it('answers 403 to the right password on a disabled account', async () => {
    const user = await signupAndLogin(t.app);
    await request(server).delete('/api/users/me').set(user.auth).expect(204);
    const res = await request(server)
      .post('/api/auth/login')
      .send({ email: user.email, password: user.password });
    expect(res.status).toBe(403);
    const wrong = await request(server)
      .post('/api/auth/login')
      .send({ email: user.email, password: 'Wrong-pass-1!' });
    expect(wrong.status).toBe(401);
  });

  it('answers malformed JSON with 400 in Nest error shape', async () => {
    const res = await request(server)
      .post('/api/auth/login')
      .set('Content-Type', 'application/json')
      .send('{"email": "a@b.c", "password": ');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(typeof res.body.message).toBe('string');
  });

  it('refuses a body over the limit with 413 before hashing anything', async () => {
    const res = await request(server)
      .post('/api/auth/signup')
      .send({ email: 'big@example.com', password: 'Aa1!' + 'x'.repeat(200_000), name: 'Big' });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ statusCode: 413 });
    expect(await users.countDocuments({ email: 'big@example.com' })).toBe(0);
  });

  it('refuses operator objects in login fields', async () => {
    const res = await request(server)
      .post('/api/auth/login')
      .send({ email: { $ne: null }, password: { $ne: null } });
    expect(res.status).toBe(400);
  });
});

describe('PASSWORD_POLICY=classes (the book-library seed rule)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ label: 'auth_classes', env: { PASSWORD_POLICY: 'classes' } });
  });

  afterAll(() => t.close());

  const signup = (password: string) =>
    request(t.app.getHttpServer())
      .post('/api/auth/signup')
      .send({ email: `c-${password.length}-${Date.now()}@example.com`, password, name: 'C' });

  it.each([
    ['a lower-case passphrase', 'correct horse battery staple', /upper-case letter/],
    ['no lower-case letter', 'UPPER-CASE-1!', /lower-case letter/],
    ['no digit', 'No-digits-here!', /digit/],
    ['no symbol', 'NoSymbol123x', /symbol/],
    ['a common password, even with every class', 'Password1!', /too common/],
  ])('refuses %s (400 naming the rule)', async (_why, password, rule) => {
    const res = await signup(password);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.message)).toMatch(rule);
  });

  it('accepts a password with every class', async () => {
    await signup('Correct horse 4 battery!').expect(201);
  });

  it('refuses a new password that breaks the rule', async () => {
    const user = await signupAndLogin(t.app);
    const res = await request(t.app.getHttpServer())
      .patch('/api/auth/password')
      .set(user.auth)
      .send({ currentPassword: user.password, newPassword: 'all lower case words' });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.message)).toMatch(
      /newPassword must contain an upper-case letter/,
    );
  });
});

describe('per-IP rate limit on the auth routes', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ label: 'ratelimit', env: { AUTH_RATE_LIMIT: '3' } });
  });

  afterAll(() => t.close());

  it('answers 429 with Retry-After beyond the limit, and leaves other routes alone', async () => {
    const server = t.app.getHttpServer();
    const body = { email: 'nobody@example.com', password: STRONG_PASSWORD };
    for (let i = 0; i < 3; i += 1) {
      await request(server).post('/api/auth/login').send(body).expect(401);
    }
    const limited = await request(server).post('/api/auth/login').send(body);
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ statusCode: 429 });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    await request(server)
      .post('/api/auth/signup')
      .send({ email: 'late@example.com', password: STRONG_PASSWORD, name: 'L' })
      .expect(429);
    for (let i = 0; i < 5; i += 1) await request(server).get('/api/movies').expect(200);
  });
});

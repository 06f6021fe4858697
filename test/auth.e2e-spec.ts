import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import request from 'supertest';
import { createTestApp } from './support/app.js';
import type { TestApp } from './support/app.js';
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
      ['active', 'createdAt', 'email', 'id', 'name', 'role', 'updatedAt'].sort(),
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

  it.each([
    ['too short', 'Aa1!aaa'],
    ['no upper-case letter', 'lower-case-1!'],
    ['no lower-case letter', 'UPPER-CASE-1!'],
    ['no digit', 'No-digits-here!'],
    ['no symbol', 'NoSymbol123'],
  ])('refuses a weak password (%s)', async (_why, password) => {
    const email = `weak-${password.length}-${Date.now()}@example.com`;
    const res = await signup({ email, password, name: 'W' });
    expect(res.status).toBe(400);
    expect(await users.countDocuments({ email })).toBe(0);
  });

  it('refuses a password over 72 UTF-8 bytes even when it is short in characters', async () => {
    const password = 'Aa1!' + 'é'.repeat(35); // 39 characters, 74 bytes
    const res = await signup({ email: 'long@example.com', password, name: 'L' });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.message)).toMatch(/72 bytes/);
  });

  it('accepts a password of exactly 72 bytes', async () => {
    const password = 'Aa1!' + 'x'.repeat(68);
    await signup({ email: 'exact72@example.com', password, name: 'E' }).expect(201);
    await request(server)
      .post('/api/auth/login')
      .send({ email: 'exact72@example.com', password })
      .expect(200);
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

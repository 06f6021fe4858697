import { randomBytes } from 'node:crypto';

import { Types } from 'mongoose';
import request from 'supertest';

import type { TestApp } from './support/app.js';
import { createTestApp, testDatabaseUri } from './support/app.js';
import { connectionOf } from './support/db.js';
import { decodePayload, forgeToken } from './support/tokens.js';
import type { TestUser } from './support/users.js';
import { login, loginAdmin, signupAndLogin, STRONG_PASSWORD } from './support/users.js';
import { pollUntil } from './support/wait.js';

type App = TestApp['app'];

const me = (app: App, accessToken: string) =>
  request(app.getHttpServer()).get('/api/users/me').set('Authorization', `Bearer ${accessToken}`);

const refresh = (app: App, refreshToken: string | undefined) =>
  request(app.getHttpServer()).post('/api/auth/refresh').send({ refreshToken });

const refreshTokensOf = (app: App, userId: string) =>
  connectionOf(app)
    .collection('refresh_tokens')
    .find({ user: new Types.ObjectId(userId) })
    .toArray();

describe('sessions', () => {
  let t: TestApp;
  let server: ReturnType<App['getHttpServer']>;

  beforeAll(async () => {
    t = await createTestApp({ label: 'sessions' });
    server = t.app.getHttpServer();
  });

  afterAll(() => t.close());

  it('login returns an access token, a 256-bit refresh token, its type and lifetime', async () => {
    const user = await signupAndLogin(t.app);
    const res = await request(server)
      .post('/api/auth/login')
      .send({ email: user.email, password: user.password })
      .expect(200);
    expect(Object.keys(res.body).sort()).toEqual([
      'accessToken',
      'expiresIn',
      'refreshToken',
      'tokenType',
    ]);
    expect(res.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    expect(res.body.accessToken.split('.')).toHaveLength(3);
    expect(res.body.refreshToken).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(Buffer.from(res.body.refreshToken, 'base64url').length).toBeGreaterThanOrEqual(32);
    expect(res.body.refreshToken).not.toBe(user.refreshToken);
  });

  it('stores refresh tokens only as hashes', async () => {
    const user = await signupAndLogin(t.app);
    const raw = user.refreshToken ?? '';
    const rotated = await refresh(t.app, raw).expect(200);
    const db = connectionOf(t.app);
    const stored = JSON.stringify([
      await db.collection('refresh_tokens').find().toArray(),
      await db.collection('sessions').find().toArray(),
    ]);
    expect(await refreshTokensOf(t.app, user.id)).toHaveLength(2);
    for (const token of [raw, rotated.body.refreshToken as string]) {
      const bytes = Buffer.from(token, 'base64url');
      for (const encoding of [token, bytes.toString('hex'), bytes.toString('base64')]) {
        expect(stored).not.toContain(encoding);
      }
    }
  });

  it('refresh rotates the pair, and the old refresh token is refused afterwards', async () => {
    const user = await signupAndLogin(t.app);
    const res = await refresh(t.app, user.refreshToken).expect(200);
    expect(res.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    expect(res.body.refreshToken).not.toBe(user.refreshToken);
    expect(decodePayload(res.body.accessToken).sid).toBe(decodePayload(user.token).sid);
    await me(t.app, res.body.accessToken).expect(200);
    const reuse = await refresh(t.app, user.refreshToken);
    expect(reuse.status).toBe(401);
    expect(reuse.body.refreshToken).toBeUndefined();
  });

  it('reusing a rotated refresh token ends the whole session, and only that session', async () => {
    const user = await signupAndLogin(t.app);
    const otherSession = await login(t.app, user.email, user.password);
    const first = await refresh(t.app, user.refreshToken).expect(200);
    const second = await refresh(t.app, first.body.refreshToken).expect(200);
    await me(t.app, second.body.accessToken).expect(200);

    await refresh(t.app, user.refreshToken).expect(401); // a thief replays the original token

    await refresh(t.app, second.body.refreshToken).expect(401);
    await me(t.app, second.body.accessToken).expect(401);
    await me(t.app, user.token).expect(401);
    await me(t.app, otherSession.token).expect(200);
    await refresh(t.app, otherSession.refreshToken).expect(200);
  });

  it('lets at most one of 20 concurrent refreshes with one token succeed', async () => {
    const user = await signupAndLogin(t.app);
    const [original] = await refreshTokensOf(t.app, user.id);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => refresh(t.app, user.refreshToken)),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(1);
    expect(statuses.filter((s) => s !== 200 && s !== 401)).toEqual([]);
    const successors = await connectionOf(t.app)
      .collection('refresh_tokens')
      .countDocuments({ parent: original._id.toString() });
    expect(successors).toBeLessThanOrEqual(1);
    // 19 of them presented an already-rotated token: reuse detection ended the session.
    await me(t.app, user.token).expect(401);
    for (const winner of results.filter((r) => r.status === 200)) {
      await refresh(t.app, winner.body.refreshToken).expect(401);
      await me(t.app, winner.body.accessToken).expect(401);
    }
  });

  it('logout ends the session: its refresh and access tokens are refused', async () => {
    const user = await signupAndLogin(t.app);
    const other = await login(t.app, user.email, user.password);
    await request(server)
      .post('/api/auth/logout')
      .send({ refreshToken: user.refreshToken })
      .expect(204);
    await refresh(t.app, user.refreshToken).expect(401);
    await me(t.app, user.token).expect(401);
    await request(server)
      .post('/api/auth/logout')
      .send({ refreshToken: user.refreshToken })
      .expect(401);
    await me(t.app, other.token).expect(200);
  });

  it('logout-all ends every session of the user', async () => {
    const user = await signupAndLogin(t.app);
    const sessions = [user, await login(t.app, user.email, user.password)];
    const bystander = await signupAndLogin(t.app);
    await request(server).post('/api/auth/logout-all').set(user.auth).expect(204);
    for (const session of sessions) {
      await me(t.app, session.token).expect(401);
      await refresh(t.app, session.refreshToken).expect(401);
    }
    expect(await refreshTokensOf(t.app, user.id)).toHaveLength(0);
    await me(t.app, bystander.token).expect(200);
  });

  it('a password change ends every session; only the new password logs in', async () => {
    const user = await signupAndLogin(t.app);
    const sessions = [user, await login(t.app, user.email, user.password)];
    const newPassword = 'N3w-pass-word!';
    await request(server)
      .patch('/api/auth/password')
      .set(user.auth)
      .send({ currentPassword: user.password, newPassword })
      .expect(204);
    for (const session of sessions) {
      await me(t.app, session.token).expect(401);
      await refresh(t.app, session.refreshToken).expect(401);
    }
    await request(server)
      .post('/api/auth/login')
      .send({ email: user.email, password: STRONG_PASSWORD })
      .expect(401);
    const fresh = await login(t.app, user.email, newPassword);
    await me(t.app, fresh.token).expect(200);
  });

  it('refuses an expired refresh token', async () => {
    const user = await signupAndLogin(t.app);
    await connectionOf(t.app)
      .collection('refresh_tokens')
      .updateMany(
        { user: new Types.ObjectId(user.id) },
        { $set: { expiresAt: new Date(Date.now() - 1000) } },
      );
    const res = await refresh(t.app, user.refreshToken);
    expect(res.status).toBe(401);
    expect(res.body.accessToken).toBeUndefined();
  });

  it('session ids are 128-bit random values, not ObjectIds, and stored as the session _id', async () => {
    const user = await signupAndLogin(t.app);
    const second = await login(t.app, user.email, user.password);
    const sids = [user, second].map((session) => String(decodePayload(session.token).sid));
    for (const sid of sids) {
      expect(sid).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(sid).not.toMatch(/^[0-9a-f]{24}$/);
      expect(Buffer.from(sid, 'base64url')).toHaveLength(16);
    }
    expect(sids[0]).not.toBe(sids[1]);
    const stored = await connectionOf(t.app)
      .collection<{ _id: unknown }>('sessions')
      .find({ user: new Types.ObjectId(user.id) })
      .toArray();
    expect(stored.map((session) => session._id).sort()).toEqual([...sids].sort());
  });

  it('refuses a token whose session id looks valid but names no session', async () => {
    const user = await signupAndLogin(t.app);
    const unknown = randomBytes(16).toString('base64url');
    const res = await me(t.app, forgeToken({ sub: user.id, sid: unknown }));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    await me(t.app, user.token).expect(200);
  });

  it('answers login, refresh, signup and /users/me with Cache-Control: no-store', async () => {
    const email = `nostore-${Date.now()}@example.com`;
    const signup = await request(server)
      .post('/api/auth/signup')
      .send({ email, password: STRONG_PASSWORD, name: 'No Store' })
      .expect(201);
    const loggedIn = await request(server)
      .post('/api/auth/login')
      .send({ email, password: STRONG_PASSWORD })
      .expect(200);
    const refreshed = await refresh(t.app, loggedIn.body.refreshToken).expect(200);
    const profile = await me(t.app, refreshed.body.accessToken).expect(200);
    for (const res of [signup, loggedIn, refreshed, profile]) {
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('sends WWW-Authenticate: Bearer with every 401', async () => {
    const responses = await Promise.all([
      request(server).get('/api/users/me'),
      me(t.app, 'not-a-token'),
      refresh(t.app, 'x'.repeat(43)),
      request(server)
        .post('/api/auth/logout')
        .send({ refreshToken: 'x'.repeat(43) }),
      request(server)
        .post('/api/auth/login')
        .send({ email: 'nobody@example.com', password: STRONG_PASSWORD }),
    ]);
    for (const res of responses) {
      expect({ status: res.status, header: res.headers['www-authenticate'] }).toEqual({
        status: 401,
        header: 'Bearer',
      });
    }
  });
});

describe('absolute session lifetime (SESSION_MAX_AGE_SECONDS)', () => {
  const MAX_AGE_SECONDS = 3;
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      label: 'sessions_max_age',
      env: { SESSION_MAX_AGE_SECONDS: String(MAX_AGE_SECONDS) },
    });
  });

  afterAll(() => t.close());

  const sleepUntil = (time: number) =>
    new Promise((resolve) => setTimeout(resolve, Math.max(0, time - Date.now())));

  it('refreshes within it, never past it: refresh and access token are refused after', async () => {
    const startedAt = Date.now();
    const user = await signupAndLogin(t.app);
    const endsBy = Date.now() + MAX_AGE_SECONDS * 1000;

    await sleepUntil(startedAt + 1000);
    const refreshed = await refresh(t.app, user.refreshToken).expect(200);
    await me(t.app, refreshed.body.accessToken).expect(200);
    // Rotation did not slide the session or its new refresh token past the absolute end.
    const db = connectionOf(t.app);
    const [session] = await db
      .collection<{ expiresAt: Date }>('sessions')
      .find({ user: new Types.ObjectId(user.id) })
      .toArray();
    expect(session.expiresAt.getTime()).toBeLessThanOrEqual(endsBy);
    for (const token of await refreshTokensOf(t.app, user.id)) {
      expect((token.expiresAt as Date).getTime()).toBeLessThanOrEqual(endsBy);
    }

    await sleepUntil(endsBy + 500);
    const late = await refresh(t.app, refreshed.body.refreshToken);
    expect(late.status).toBe(401);
    expect(late.body.accessToken).toBeUndefined();
    await me(t.app, refreshed.body.accessToken).expect(401);
  });
});

describe('revocation across instances', () => {
  const TTL_MS = 1000;
  /** Revocation must reach the other instance within the cache TTL (plus slack for a slow CI). */
  const DEADLINE_MS = TTL_MS + 1500;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    const mongoUri = testDatabaseUri('sessions_multi');
    const env = { SESSION_CACHE_TTL_MS: String(TTL_MS) };
    a = await createTestApp({ mongoUri, env });
    b = await createTestApp({ mongoUri, env });
  });

  afterAll(async () => {
    await a.close();
    await b.close();
  });

  const statusOn = async (app: App, path: string, user: TestUser) =>
    (await request(app.getHttpServer()).get(path).set(user.auth)).status;

  /** Polls instance `app` until `path` answers `expected`, failing after the deadline. */
  async function expectEventually(app: App, path: string, user: TestUser, expected: number) {
    const status = await pollUntil(
      () => statusOn(app, path, user),
      (s) => s === expected,
      { timeoutMs: DEADLINE_MS },
    );
    expect(status).toBe(expected);
    // …and it stays that way.
    expect(await statusOn(app, path, user)).toBe(expected);
  }

  it('logout-all on B reaches A within the cache TTL', async () => {
    const user = await signupAndLogin(b.app);
    expect(await statusOn(a.app, '/api/users/me', user)).toBe(200); // A caches the answer
    await request(b.app.getHttpServer()).post('/api/auth/logout-all').set(user.auth).expect(204);
    expect(await statusOn(b.app, '/api/users/me', user)).toBe(401); // B knows at once
    await expectEventually(a.app, '/api/users/me', user, 401);
  });

  it('disabling a user on B reaches A within the cache TTL (403)', async () => {
    const user = await signupAndLogin(b.app);
    const admin = await loginAdmin(b.app);
    expect(await statusOn(a.app, '/api/users/me', user)).toBe(200);
    await request(b.app.getHttpServer())
      .patch(`/api/users/${user.id}`)
      .set(admin.auth)
      .send({ active: false })
      .expect(200);
    await expectEventually(a.app, '/api/users/me', user, 403);
  });

  it('a role change on B reaches A within the cache TTL, both ways', async () => {
    const user = await signupAndLogin(b.app);
    const admin = await loginAdmin(b.app);
    expect(await statusOn(a.app, '/api/users', user)).toBe(403);
    const setRole = (role: string) =>
      request(b.app.getHttpServer())
        .patch(`/api/users/${user.id}`)
        .set(admin.auth)
        .send({ role })
        .expect(200);
    await setRole('admin');
    await expectEventually(a.app, '/api/users', user, 200);
    await setRole('user');
    await expectEventually(a.app, '/api/users', user, 403);
  });

  it('with SESSION_CACHE_TTL_MS=0 revocation on one instance is immediate on the other', async () => {
    const mongoUri = testDatabaseUri('sessions_nocache');
    const env = { SESSION_CACHE_TTL_MS: '0' };
    const c = await createTestApp({ mongoUri, env });
    const d = await createTestApp({ mongoUri, env });
    try {
      const user = await signupAndLogin(d.app);
      expect(await statusOn(c.app, '/api/users/me', user)).toBe(200);
      await request(d.app.getHttpServer()).post('/api/auth/logout-all').set(user.auth).expect(204);
      expect(await statusOn(c.app, '/api/users/me', user)).toBe(401);
    } finally {
      await c.close();
      await d.close();
    }
  });
});

import { Types } from 'mongoose';
import request from 'supertest';

import type { TestApp } from '../support/app.js';
import { createTestApp } from '../support/app.js';
import { connectionOf, expectUnchangedAfter } from '../support/db.js';
import type { TestUser } from '../support/users.js';
import { loginAdmin, signupAndLogin } from '../support/users.js';

/**
 * Credentials that were once valid: a rotated or logged-out refresh token, an access token from
 * before a password change, the token of a disabled or deleted account. Each is refused and the
 * database is left as it was (or, for a replayed refresh token, the session is ended, nothing else).
 */
describe('attacks with stolen or stale credentials', () => {
  let t: TestApp;
  let server: ReturnType<TestApp['app']['getHttpServer']>;
  let admin: TestUser;

  beforeAll(async () => {
    // No cache: each refusal below must come from the database, not from an eviction.
    t = await createTestApp({ label: 'sec_stale', env: { SESSION_CACHE_TTL_MS: '0' } });
    server = t.app.getHttpServer();
    admin = await loginAdmin(t.app);
  });

  afterAll(() => t.close());

  const rename = (user: TestUser) =>
    request(server).patch('/api/users/me').set(user.auth).send({ name: 'Pwned' });

  const countFor = (collection: string, userId: string) =>
    connectionOf(t.app)
      .collection(collection)
      .countDocuments({ user: new Types.ObjectId(userId) });

  it('replaying a rotated refresh token: 401, no tokens issued, the session ends', async () => {
    const victim = await signupAndLogin(t.app);
    const rotated = await request(server)
      .post('/api/auth/refresh')
      .send({ refreshToken: victim.refreshToken })
      .expect(200);
    const others = await expectUnchangedAfter(t.app, ['users', 'movies', 'login_failures']);
    const sessionsBefore = await countFor('sessions', victim.id);

    const res = await request(server)
      .post('/api/auth/refresh')
      .send({ refreshToken: victim.refreshToken });

    expect(res.status).toBe(401);
    expect(res.body.refreshToken).toBeUndefined();
    expect(await countFor('refresh_tokens', victim.id)).toBe(0);
    expect(await countFor('sessions', victim.id)).toBe(sessionsBefore - 1);
    await others();
    await request(server)
      .get('/api/users/me')
      .set('Authorization', `Bearer ${rotated.body.accessToken}`)
      .expect(401);
  });

  it('refresh after logout', async () => {
    const victim = await signupAndLogin(t.app);
    await request(server)
      .post('/api/auth/logout')
      .send({ refreshToken: victim.refreshToken })
      .expect(204);
    const unchanged = await expectUnchangedAfter(t.app);
    const res = await request(server)
      .post('/api/auth/refresh')
      .send({ refreshToken: victim.refreshToken });
    expect(res.status).toBe(401);
    expect(res.body.accessToken).toBeUndefined();
    await unchanged();
  });

  it('access token from before a password change', async () => {
    const victim = await signupAndLogin(t.app);
    const stolen = { ...victim };
    await request(server)
      .patch('/api/auth/password')
      .set(victim.auth)
      .send({ currentPassword: victim.password, newPassword: 'Ch4nged!pass' })
      .expect(204);
    const unchanged = await expectUnchangedAfter(t.app);
    expect((await rename(stolen)).status).toBe(401);
    await unchanged();
  });

  it('token of a disabled user (403)', async () => {
    const victim = await signupAndLogin(t.app);
    await request(server)
      .patch(`/api/users/${victim.id}`)
      .set(admin.auth)
      .send({ active: false })
      .expect(200);
    const unchanged = await expectUnchangedAfter(t.app);
    expect((await rename(victim)).status).toBe(403);
    await unchanged();
  });

  it('token of a deleted user (401)', async () => {
    const victim = await signupAndLogin(t.app);
    await request(server).delete(`/api/users/${victim.id}`).set(admin.auth).expect(204);
    const unchanged = await expectUnchangedAfter(t.app);
    const res = await request(server)
      .post('/api/movies')
      .set(victim.auth)
      .send({ name: `Ghost ${victim.id}`, casts: ['a'], genres: ['b'] });
    expect(res.status).toBe(401);
    await unchanged();
  });
});

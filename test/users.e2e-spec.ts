import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { Types } from 'mongoose';
import request from 'supertest';

import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';
import type { TestUser } from './support/users.js';
import { loginAdmin, signupAndLogin } from './support/users.js';

describe('users and roles', () => {
  let t: TestApp;
  let server: ReturnType<TestApp['app']['getHttpServer']>;
  let db: Connection;
  let admin: TestUser;

  beforeAll(async () => {
    t = await createTestApp({ label: 'users' });
    server = t.app.getHttpServer();
    db = t.app.get<Connection>(getConnectionToken());
    admin = await loginAdmin(t.app);
  });

  afterAll(() => t.close());

  const userDoc = (id: string) => db.collection('users').findOne({ _id: new Types.ObjectId(id) });

  describe('/users/me', () => {
    it('returns the public view of the caller', async () => {
      const user = await signupAndLogin(t.app, { name: 'Me Myself' });
      const res = await request(server).get('/api/users/me').set(user.auth).expect(200);
      expect(res.body).toMatchObject({
        id: user.id,
        email: user.email,
        name: 'Me Myself',
        role: 'user',
      });
      expect(res.body.passwordHash).toBeUndefined();
    });

    it('changes the name and nothing else', async () => {
      const user = await signupAndLogin(t.app);
      const res = await request(server)
        .patch('/api/users/me')
        .set(user.auth)
        .send({ name: ' New Name ' });
      expect(res.status).toBe(200);
      expect(res.body.name).toBe('New Name');
    });

    it.each([
      ['role', { name: 'x', role: 'admin' }],
      ['active', { name: 'x', active: false }],
      ['email', { name: 'x', email: 'other@example.com' }],
      ['passwordHash', { name: 'x', passwordHash: 'x' }],
    ])('refuses %s in PATCH /users/me and does not apply it', async (_field, body) => {
      const user = await signupAndLogin(t.app);
      await request(server).patch('/api/users/me').set(user.auth).send(body).expect(400);
      const stored = await userDoc(user.id);
      expect(stored).toMatchObject({
        role: 'user',
        active: true,
        email: user.email,
        name: 'Test User',
      });
    });

    it('DELETE disables the account and keeps its data', async () => {
      const user = await signupAndLogin(t.app);
      await request(server).delete('/api/users/me').set(user.auth).expect(204);
      expect(await userDoc(user.id)).toMatchObject({ active: false });
      await request(server).get('/api/users/me').set(user.auth).expect(403);
    });
  });

  describe('admin routes', () => {
    it('refuses a normal user with 403 and anonymous with 401', async () => {
      const user = await signupAndLogin(t.app);
      const other = await signupAndLogin(t.app);
      await request(server).get('/api/users').set(user.auth).expect(403);
      await request(server).get(`/api/users/${other.id}`).set(user.auth).expect(403);
      await request(server)
        .patch(`/api/users/${user.id}`)
        .set(user.auth)
        .send({ role: 'admin' })
        .expect(403);
      await request(server).delete(`/api/users/${other.id}`).set(user.auth).expect(403);
      await request(server).get('/api/users').expect(401);
      expect(await userDoc(user.id)).toMatchObject({ role: 'user' });
      expect(await userDoc(other.id)).not.toBeNull();
    });

    it('lists users with pagination and role/active filters', async () => {
      await signupAndLogin(t.app);
      const res = await request(server).get('/api/users?role=admin').set(admin.auth).expect(200);
      expect(res.body).toMatchObject({ page: 1, limit: 20 });
      expect(res.body.items.every((u: { role: string }) => u.role === 'admin')).toBe(true);
      expect(res.body.items.map((u: { email: string }) => u.email)).toContain(admin.email);
      const page = await request(server)
        .get('/api/users?limit=1&page=2')
        .set(admin.auth)
        .expect(200);
      expect(page.body.items).toHaveLength(1);
      expect(page.body.total).toBeGreaterThan(1);
      await request(server).get('/api/users?limit=101').set(admin.auth).expect(400);
      await request(server).get('/api/users?active=maybe').set(admin.auth).expect(400);
    });

    it('reads, updates and 404s users by id; bad ids are 400', async () => {
      const user = await signupAndLogin(t.app);
      await request(server).get(`/api/users/${user.id}`).set(admin.auth).expect(200);
      const missing = new Types.ObjectId().toString();
      await request(server).get(`/api/users/${missing}`).set(admin.auth).expect(404);
      await request(server).get('/api/users/not-an-id').set(admin.auth).expect(400);
      const res = await request(server)
        .patch(`/api/users/${user.id}`)
        .set(admin.auth)
        .send({ active: false });
      expect(res.body).toMatchObject({ active: false });
      await request(server)
        .patch(`/api/users/${user.id}`)
        .set(admin.auth)
        .send({ role: 'root' })
        .expect(400);
    });

    it('never lets the last active admin be demoted, disabled or deleted (409)', async () => {
      await request(server)
        .patch(`/api/users/${admin.id}`)
        .set(admin.auth)
        .send({ role: 'user' })
        .expect(409);
      await request(server)
        .patch(`/api/users/${admin.id}`)
        .set(admin.auth)
        .send({ active: false })
        .expect(409);
      await request(server).delete(`/api/users/${admin.id}`).set(admin.auth).expect(409);
      await request(server).delete('/api/users/me').set(admin.auth).expect(409);
      expect(await userDoc(admin.id)).toMatchObject({ role: 'admin', active: true });
    });

    it('allows demoting an admin while another active admin remains', async () => {
      const second = await signupAndLogin(t.app);
      await request(server)
        .patch(`/api/users/${second.id}`)
        .set(admin.auth)
        .send({ role: 'admin' })
        .expect(200);
      await request(server)
        .patch(`/api/users/${admin.id}`)
        .set(second.auth)
        .send({ role: 'user' })
        .expect(200);
      await request(server)
        .patch(`/api/users/${admin.id}`)
        .set(second.auth)
        .send({ role: 'admin' })
        .expect(200);
      await request(server).delete(`/api/users/${second.id}`).set(admin.auth).expect(204);
    });

    it("deletes a user with their movies and leaves other users' movies alone", async () => {
      const doomed = await signupAndLogin(t.app);
      const keeper = await signupAndLogin(t.app);
      for (const [who, name] of [
        [doomed, 'Doomed 1'],
        [doomed, 'Doomed 2'],
        [keeper, 'Kept'],
      ] as const) {
        await request(server)
          .post('/api/movies')
          .set(who.auth)
          .send({ name, casts: ['A'], genres: ['B'] })
          .expect(201);
      }
      await request(server).delete(`/api/users/${doomed.id}`).set(admin.auth).expect(204);
      expect(await userDoc(doomed.id)).toBeNull();
      const movies = db.collection('movies');
      expect(await movies.countDocuments({ addedBy: new Types.ObjectId(doomed.id) })).toBe(0);
      expect(await movies.countDocuments({ addedBy: new Types.ObjectId(keeper.id) })).toBe(1);
      await request(server).delete(`/api/users/${doomed.id}`).set(admin.auth).expect(404);
    });
  });

  describe('first admin from configuration', () => {
    it('is created once, even when the app starts again on the same database', async () => {
      const again = await createTestApp({ mongoUri: t.mongoUri });
      await again.close();
      expect(await db.collection('users').countDocuments({ email: admin.email })).toBe(1);
      expect(await db.collection('users').findOne({ email: admin.email })).toMatchObject({
        role: 'admin',
      });
    });
  });
});

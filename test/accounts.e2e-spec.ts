import type { Connection } from 'mongoose';
import { Types } from 'mongoose';
import request from 'supertest';

import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';
import { connectionOf } from './support/db.js';
import type { Fixtures } from './support/fixtures.js';
import { fixtures } from './support/fixtures.js';
import { solidImage } from './support/images.js';
import type { TestUser } from './support/users.js';
import { login, loginAdmin, signupAndLogin, STRONG_PASSWORD } from './support/users.js';
import { pollUntil } from './support/wait.js';

/**
 * Account state that must stay right across restarts, concurrent admins, several API instances
 * and FerretDB's non-atomic updates: the configured admin, the last admin, deleted users, and
 * disabled users.
 */
describe('accounts', () => {
  let t: TestApp;
  let server: ReturnType<TestApp['app']['getHttpServer']>;
  let db: Connection;
  let admin: TestUser;
  let make: Fixtures;
  let counter = 0;
  /** Other instances on this database, closed at the end. */
  const instances: TestApp[] = [];

  beforeAll(async () => {
    // No principal cache: several tests change the database behind the app's back (a delete cut
    // short by a crash, another instance's start) and expect the next request to see it.
    t = await createTestApp({ label: 'accounts', env: { SESSION_CACHE_TTL_MS: '0' } });
    server = t.app.getHttpServer();
    db = connectionOf(t.app);
    make = fixtures(t.app);
    admin = await make.admin();
  });

  afterAll(async () => {
    for (const instance of instances.reverse()) await instance.close();
    await t.close();
  });

  async function startInstance(env: Record<string, string>): Promise<TestApp> {
    const instance = await createTestApp({ mongoUri: t.mongoUri, env });
    instances.push(instance);
    return instance;
  }

  const userDoc = (id: string) => db.collection('users').findOne({ _id: new Types.ObjectId(id) });
  const byEmail = (email: string) => db.collection('users').findOne({ email });
  const uniqueEmail = (label: string) => `${label}-${Date.now()}-${++counter}@example.com`;

  /** Another start on this database with another configured admin (no principal cache either). */
  async function restartWithAdmin(email: string, password: string): Promise<void> {
    await startInstance({
      ADMIN_EMAIL: email,
      ADMIN_PASSWORD: password,
      SESSION_CACHE_TTL_MS: '0',
    });
  }

  describe('the configured admin at start-up', () => {
    it('does not promote a stranger who signed up with the admin email first', async () => {
      const email = uniqueEmail('squatter');
      const stranger = await make.user({ email, password: STRONG_PASSWORD });
      await restartWithAdmin(email, 'Configured-admin-pass-1!');
      expect(await byEmail(email)).toMatchObject({ role: 'user', active: true });
      await request(server).get('/api/users').set(stranger.auth).expect(403);
    });

    it('promotes an existing account whose password is the configured one', async () => {
      const email = uniqueEmail('owner');
      const password = 'Configured-admin-pass-2!';
      await make.user({ email, password });
      await restartWithAdmin(email, password);
      expect(await byEmail(email)).toMatchObject({ role: 'admin', active: true });
      const owner = await login(t.app, email, password);
      await request(server).get('/api/users').set(owner.auth).expect(200);
    });

    it('leaves a disabled configured admin disabled', async () => {
      const email = uniqueEmail('retired');
      const password = 'Configured-admin-pass-3!';
      const retired = await make.user({ email, password });
      await make.promote(retired, admin);
      await request(server)
        .patch(`/api/users/${retired.id}`)
        .set(admin.auth)
        .send({ active: false })
        .expect(200);
      await restartWithAdmin(email, password);
      expect(await userDoc(retired.id)).toMatchObject({ role: 'admin', active: false });
      await request(server).post('/api/auth/login').send({ email, password }).expect(403);
    });
  });

  describe('the last active admin', () => {
    it('survives two admins disabling each other at the same moment', async () => {
      // Only the suite's admin and one other: the tests above made more admins.
      for (const extra of await db.collection('users').find({ role: 'admin' }).toArray()) {
        if (extra._id.toString() === admin.id) continue;
        await request(server)
          .patch(`/api/users/${extra._id.toString()}`)
          .set(admin.auth)
          .send({ role: 'user' })
          .expect(200);
      }
      const other = await make.user();
      await make.promote(other, admin);
      let first = admin;
      let second = other;
      for (let round = 0; round < 6; round++) {
        const answers = await Promise.all([
          request(server).patch(`/api/users/${second.id}`).set(first.auth).send({ active: false }),
          request(server).patch(`/api/users/${first.id}`).set(second.auth).send({ active: false }),
        ]);
        const statuses = answers.map((res) => res.status);
        // The loser is refused: 409 from the last-admin rule, or 403 if it was already disabled
        // when its request was authenticated. Never both 200.
        expect(statuses.filter((status) => status === 200)).toHaveLength(1);
        expect(statuses.every((status) => [200, 403, 409].includes(status))).toBe(true);
        expect(await db.collection('users').countDocuments({ role: 'admin', active: true })).toBe(
          1,
        );
        // Whoever remains re-enables the other, who signs in again (disabling ended their sessions).
        const [winner, loser] = statuses[0] === 200 ? [first, second] : [second, first];
        await request(server)
          .patch(`/api/users/${loser.id}`)
          .set(winner.auth)
          .send({ active: true })
          .expect(200);
        const relogged = await login(t.app, loser.email, loser.password);
        if (loser === admin) admin = relogged;
        [first, second] = [winner, relogged];
      }
      // Leave the suite's admin as the only other admin's peer: demote the extra one.
      await request(server)
        .patch(`/api/users/${other.id}`)
        .set(admin.auth)
        .send({ role: 'user' })
        .expect(200);
    });
  });

  describe('a disable racing the user’s own writes (FerretDB updates are read-modify-write)', () => {
    it('stays disabled when the user renames themself at the same moment', async () => {
      let victim = await make.user();
      for (let round = 0; round < 25; round++) {
        const disable = request(server)
          .patch(`/api/users/${victim.id}`)
          .set(admin.auth)
          .send({ active: false });
        const renames = Array.from({ length: 4 }, (_, i) =>
          request(server)
            .patch('/api/users/me')
            .set(victim.auth)
            .send({ name: `Round ${round}.${i}` }),
        );
        const [disabled] = await Promise.all([disable, ...renames]);
        expect(disabled.status).toBe(200);
        // Writes that were still landing are over once their responses are in.
        const seen = await request(server).get(`/api/users/${victim.id}`).set(admin.auth);
        expect({ round, active: seen.body.active }).toEqual({ round, active: false });
        await request(server).get('/api/users/me').set(victim.auth).expect(403);
        await request(server)
          .patch(`/api/users/${victim.id}`)
          .set(admin.auth)
          .send({ active: true })
          .expect(200);
        victim = await login(t.app, victim.email, victim.password);
      }
    });
  });

  describe('a delete that stopped half-way', () => {
    it('treats a user marked deleted as gone, and a second delete finishes the job', async () => {
      const user = await make.user();
      // What a delete leaves when its process dies right after the first step.
      await db
        .collection('users')
        .updateOne({ _id: new Types.ObjectId(user.id) }, { $set: { deletedAt: new Date() } });
      await request(server).get('/api/users/me').set(user.auth).expect(401);
      await request(server)
        .post('/api/auth/login')
        .send({ email: user.email, password: user.password })
        .expect(401);
      await request(server)
        .post('/api/auth/refresh')
        .send({ refreshToken: user.refreshToken })
        .expect(401);
      await request(server).get(`/api/users/${user.id}`).set(admin.auth).expect(404);
      await request(server).delete(`/api/users/${user.id}`).set(admin.auth).expect(204);
      expect(await userDoc(user.id)).toBeNull();
    });
  });

  describe('covers of books that are gone', () => {
    it('answers 404 for a cover whose book no longer exists', async () => {
      const owner = await make.user();
      const created = await request(server)
        .post('/api/books')
        .set(owner.auth)
        .field('title', `Orphaned ${++counter}`)
        .field('category', 'science')
        .attach('cover_image', await solidImage('jpeg'), {
          filename: 'c.jpg',
          contentType: 'image/jpeg',
        })
        .expect(201);
      const id = new Types.ObjectId(created.body.id as string);
      const cover = await db.collection('book_covers').findOne({ _id: id });
      expect(cover).not.toBeNull();
      await request(server).delete(`/api/books/${id.toString()}`).set(owner.auth).expect(204);
      // A cover written by an upload that raced the delete: its book is gone, the cover is not.
      await db.collection('book_covers').insertOne({ ...cover, _id: id });
      await request(server).get(`/api/books/${id.toString()}/cover`).set(owner.auth).expect(404);
    });
  });
  describe('deleting a user while another instance still trusts their token', () => {
    const ttl = '1500';
    let a: TestApp;
    let b: TestApp;

    // B is started last, so B's principal cache (TTL 1.5 s) is the one that trusts the token.
    beforeAll(async () => {
      a = await startInstance({ SESSION_CACHE_TTL_MS: ttl });
      b = await startInstance({ SESSION_CACHE_TTL_MS: ttl });
    });

    it('sweeps what the user wrote through the other instance after the cache time', async () => {
      const user = await signupAndLogin(b.app);
      const onB = b.app.getHttpServer();
      const adminOnA = await loginAdmin(a.app);
      // B now holds the user (active) in its principal cache.
      await request(onB).get('/api/users/me').set(user.auth).expect(200);
      await request(a.app.getHttpServer())
        .delete(`/api/users/${user.id}`)
        .set(adminOnA.auth)
        .expect(204);
      // B still trusts the cached user for up to SESSION_CACHE_TTL_MS and accepts writes.
      const movie = await request(onB)
        .post('/api/movies')
        .set(user.auth)
        .send({ name: `Late movie ${++counter}`, casts: ['A'], genres: ['B'] });
      const todo = await request(onB)
        .post('/api/todos')
        .set(user.auth)
        .send({ title: 'Late todo', due: '2030-01-01T00:00:00Z' });
      expect([movie.status, todo.status]).toEqual([201, 201]);

      const owner = new Types.ObjectId(user.id);
      const leftovers = async () => ({
        user: await db.collection('users').countDocuments({ _id: owner }),
        movies: await db.collection('movies').countDocuments({ addedBy: owner }),
        todos: await db.collection('todos').countDocuments({ owner }),
        sessions: await db.collection('sessions').countDocuments({ user: owner }),
      });
      const none = { user: 0, movies: 0, todos: 0, sessions: 0 };
      const left = await pollUntil(
        leftovers,
        (value) => Object.values(value).every((count) => count === 0),
        { timeoutMs: 10_000, intervalMs: 200 },
      );
      expect(left).toEqual(none);
      await request(onB).get('/api/users/me').set(user.auth).expect(401);
    });

    it('refuses a deleted user new tokens and refreshes at once', async () => {
      const user = await signupAndLogin(a.app);
      const adminOnA = await loginAdmin(a.app);
      await request(a.app.getHttpServer())
        .delete(`/api/users/${user.id}`)
        .set(adminOnA.auth)
        .expect(204);
      await request(b.app.getHttpServer())
        .post('/api/auth/login')
        .send({ email: user.email, password: user.password })
        .expect(401);
      await request(b.app.getHttpServer())
        .post('/api/auth/refresh')
        .send({ refreshToken: user.refreshToken })
        .expect(401);
    });
  });
});

import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { Types } from 'mongoose';
import request from 'supertest';

import { OwnedResources } from '../src/auth/index.js';
import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';
import type { BucketlistBody, Fixtures } from './support/fixtures.js';
import { fixtures } from './support/fixtures.js';
import type { TestUser } from './support/users.js';

describe('bucket lists', () => {
  let t: TestApp;
  let server: ReturnType<TestApp['app']['getHttpServer']>;
  let lists: ReturnType<Connection['collection']>;
  let admin: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  let make: Fixtures;

  beforeAll(async () => {
    t = await createTestApp({ label: 'bucketlists' });
    server = t.app.getHttpServer();
    lists = t.app.get<Connection>(getConnectionToken()).collection('bucketlists');
    make = fixtures(t.app);
    admin = await make.admin();
    alice = await make.user();
    bob = await make.user();
  });

  afterAll(() => t.close());

  const stored = (id: string) => lists.findOne({ _id: new Types.ObjectId(id) });
  const ownersOf = (res: request.Response) =>
    new Set((res.body.items as BucketlistBody[]).map((item) => item.owner));

  describe('create', () => {
    it('creates a list owned by the caller', async () => {
      const res = await request(server)
        .post('/api/bucketlists')
        .set(alice.auth)
        .send({ name: '  See the aurora ' });
      expect(res.status).toBe(201);
      expect(Object.keys(res.body).sort()).toEqual(
        ['createdAt', 'id', 'name', 'owner', 'updatedAt'].sort(),
      );
      expect(res.body).toMatchObject({ name: 'See the aurora', owner: alice.id });
      const doc = await stored(res.body.id);
      expect(doc?.owner).toBeInstanceOf(Types.ObjectId);
      expect(doc?.owner.toString()).toBe(alice.id);
    });

    it.each([
      ['owner', { owner: '0123456789abcdef01234567' }],
      ['userId', { userId: '0123456789abcdef01234567' }],
    ])('refuses a %s field (400) and creates nothing', async (_field, extra) => {
      const name = `Planted ${Object.keys(extra)[0]}`;
      await request(server)
        .post('/api/bucketlists')
        .set(alice.auth)
        .send({ name, ...extra })
        .expect(400);
      expect(await lists.countDocuments({ name })).toBe(0);
    });

    it('refuses an empty or missing name (400)', async () => {
      await request(server).post('/api/bucketlists').set(alice.auth).send({}).expect(400);
      await request(server)
        .post('/api/bucketlists')
        .set(alice.auth)
        .send({ name: '   ' })
        .expect(400);
      await request(server)
        .post('/api/bucketlists')
        .set(alice.auth)
        .send({ name: { $gt: '' } })
        .expect(400);
    });

    it('needs a token (401)', async () => {
      await request(server).post('/api/bucketlists').send({ name: 'Anonymous' }).expect(401);
      expect(await lists.countDocuments({ name: 'Anonymous' })).toBe(0);
    });
  });

  describe('list', () => {
    beforeAll(async () => {
      for (const who of [alice, bob, bob, admin]) await make.bucketlist(who);
    });

    it("shows a user only their own lists, never anyone else's", async () => {
      for (const who of [alice, bob]) {
        const res = await request(server).get('/api/bucketlists?limit=100').set(who.auth);
        expect(res.status).toBe(200);
        const owned = await lists.countDocuments({ owner: new Types.ObjectId(who.id) });
        expect(owned).toBeGreaterThan(0);
        expect(res.body.total).toBe(owned);
        expect([...ownersOf(res)]).toEqual([who.id]);
      }
    });

    it('lists newest first, paginated', async () => {
      const all = await request(server).get('/api/bucketlists?limit=100').set(bob.auth);
      const docs = await lists
        .find({ owner: new Types.ObjectId(bob.id) })
        .sort({ createdAt: -1, _id: -1 })
        .toArray();
      expect(all.body.items.map((i: BucketlistBody) => i.id)).toEqual(
        docs.map((d) => d._id.toString()),
      );
      const page = await request(server).get('/api/bucketlists?limit=1&page=2').set(bob.auth);
      expect(page.body).toMatchObject({ total: docs.length, page: 2, limit: 1 });
      expect(page.body.items[0].id).toBe(docs[1]._id.toString());
    });

    it("lets a user pass owner=me or their own id, and refuses someone else's (403)", async () => {
      const me = await request(server).get('/api/bucketlists?owner=me').set(alice.auth).expect(200);
      expect([...ownersOf(me)]).toEqual([alice.id]);
      const own = await request(server)
        .get(`/api/bucketlists?owner=${alice.id}`)
        .set(alice.auth)
        .expect(200);
      expect(own.body.total).toBe(me.body.total);
      const other = await request(server).get(`/api/bucketlists?owner=${bob.id}`).set(alice.auth);
      expect(other.status).toBe(403);
      expect(other.body.items).toBeUndefined();
    });

    it("shows an admin every list, or one user's with owner=", async () => {
      const all = await request(server).get('/api/bucketlists?limit=100').set(admin.auth);
      expect(all.status).toBe(200);
      expect(all.body.total).toBe(await lists.countDocuments());
      expect([...ownersOf(all)].sort()).toEqual([admin.id, alice.id, bob.id].sort());
      const bobs = await request(server)
        .get(`/api/bucketlists?owner=${bob.id}`)
        .set(admin.auth)
        .expect(200);
      expect(bobs.body.total).toBe(
        await lists.countDocuments({ owner: new Types.ObjectId(bob.id) }),
      );
      expect([...ownersOf(bobs)]).toEqual([bob.id]);
      const mine = await request(server).get('/api/bucketlists?owner=me').set(admin.auth);
      expect([...ownersOf(mine)]).toEqual([admin.id]);
    });

    it('refuses a bad owner filter (400) and anonymous callers (401)', async () => {
      await request(server).get('/api/bucketlists?owner=nobody').set(admin.auth).expect(400);
      await request(server).get('/api/bucketlists').expect(401);
    });
  });

  describe("another user's list is hidden (404, as if it did not exist)", () => {
    let target: BucketlistBody;
    let missingBody: unknown;

    beforeAll(async () => {
      target = await make.bucketlist(alice, { name: 'Climb Kilimanjaro' });
      const missing = new Types.ObjectId().toString();
      const res = await request(server).get(`/api/bucketlists/${missing}`).set(bob.auth);
      expect(res.status).toBe(404);
      missingBody = res.body;
    });

    it.each([
      ['GET', 'get', undefined],
      ['PUT', 'put', { name: 'Hijacked' }],
      ['PATCH', 'patch', { name: 'Hijacked' }],
      ['DELETE', 'delete', undefined],
    ] as const)(
      '%s → 404 with the same body as a missing id, nothing changed',
      async (_m, method, body) => {
        const before = await stored(target.id);
        let req = request(server)[method](`/api/bucketlists/${target.id}`).set(bob.auth);
        if (body) req = req.send(body);
        const res = await req;
        expect(res.status).toBe(404);
        expect(res.body).toEqual(missingBody);
        expect(res.text).not.toContain('Kilimanjaro');
        expect(await stored(target.id)).toEqual(before);
      },
    );

    it('answers 404 even when the hostile body is invalid or carries an owner', async () => {
      const before = await stored(target.id);
      await request(server)
        .patch(`/api/bucketlists/${target.id}`)
        .set(bob.auth)
        .send({ owner: bob.id })
        .expect(404);
      expect(await stored(target.id)).toEqual(before);
    });

    it('answers anonymous callers 401 and bad ids 400', async () => {
      await request(server).get(`/api/bucketlists/${target.id}`).expect(401);
      await request(server).delete(`/api/bucketlists/${target.id}`).expect(401);
      await request(server).get('/api/bucketlists/not-an-id').set(bob.auth).expect(400);
      expect(await stored(target.id)).not.toBeNull();
    });
  });

  describe('the owner', () => {
    it('reads, replaces, renames and deletes their list', async () => {
      const list = await make.bucketlist(alice);
      const got = await request(server).get(`/api/bucketlists/${list.id}`).set(alice.auth);
      expect(got.status).toBe(200);
      expect(got.body).toEqual(list);
      const put = await request(server)
        .put(`/api/bucketlists/${list.id}`)
        .set(alice.auth)
        .send({ name: 'Replaced' });
      expect(put.body).toMatchObject({ name: 'Replaced', owner: alice.id });
      const patch = await request(server)
        .patch(`/api/bucketlists/${list.id}`)
        .set(alice.auth)
        .send({ name: 'Renamed' });
      expect(patch.body).toMatchObject({ name: 'Renamed', owner: alice.id });
      expect(await stored(list.id)).toMatchObject({ name: 'Renamed' });
      await request(server).delete(`/api/bucketlists/${list.id}`).set(alice.auth).expect(204);
      expect(await stored(list.id)).toBeNull();
      await request(server).get(`/api/bucketlists/${list.id}`).set(alice.auth).expect(404);
    });

    it.each([
      ['PUT', { name: 'x', owner: '0123456789abcdef01234567' }],
      ['PATCH', { owner: '0123456789abcdef01234567' }],
      ['PATCH', { userId: '0123456789abcdef01234567' }],
      ['PUT', {}],
    ] as const)('cannot send %s %j (400); nothing changes', async (method, body) => {
      const list = await make.bucketlist(alice);
      const before = await stored(list.id);
      await request(server)
        [method === 'PUT' ? 'put' : 'patch'](`/api/bucketlists/${list.id}`)
        .set(alice.auth)
        .send(body)
        .expect(400);
      expect(await stored(list.id)).toEqual(before);
    });
  });

  describe('an admin', () => {
    it('reads, replaces, renames and deletes any list', async () => {
      const list = await make.bucketlist(bob);
      await request(server).get(`/api/bucketlists/${list.id}`).set(admin.auth).expect(200);
      const put = await request(server)
        .put(`/api/bucketlists/${list.id}`)
        .set(admin.auth)
        .send({ name: 'Put by admin' });
      expect(put.status).toBe(200);
      expect(put.body).toMatchObject({ name: 'Put by admin', owner: bob.id });
      const patch = await request(server)
        .patch(`/api/bucketlists/${list.id}`)
        .set(admin.auth)
        .send({ name: 'Patched by admin' });
      expect(patch.status).toBe(200);
      expect(await stored(list.id)).toMatchObject({
        name: 'Patched by admin',
        owner: new Types.ObjectId(bob.id),
      });
      await request(server).delete(`/api/bucketlists/${list.id}`).set(admin.auth).expect(204);
      expect(await stored(list.id)).toBeNull();
    });

    it('gets 404 for a missing list', async () => {
      const missing = new Types.ObjectId().toString();
      await request(server).get(`/api/bucketlists/${missing}`).set(admin.auth).expect(404);
    });
  });

  describe('deleting a user removes their todos and bucket lists', () => {
    const db = () => t.app.get<Connection>(getConnectionToken());

    it('discovers both collections from their @Owned routes', () => {
      const owned = t.app.get(OwnedResources).list();
      expect(owned).toEqual(
        expect.arrayContaining([
          { model: 'Todo', ownerField: 'owner' },
          { model: 'Bucketlist', ownerField: 'owner' },
        ]),
      );
    });

    async function seed(who: TestUser): Promise<void> {
      for (const title of ['one', 'two']) {
        await request(server)
          .post('/api/todos')
          .set(who.auth)
          .send({ title, due: '2030-01-01' })
          .expect(201);
        await request(server)
          .post('/api/bucketlists')
          .set(who.auth)
          .send({ name: title })
          .expect(201);
      }
    }

    const count = (collection: string, owner: string) =>
      db()
        .collection(collection)
        .countDocuments({ owner: new Types.ObjectId(owner) });

    it("removes the user's todos and bucket lists and leaves everyone else's", async () => {
      const doomed = await make.user();
      const keeper = await make.user();
      await seed(doomed);
      await seed(keeper);
      expect(await count('todos', doomed.id)).toBe(2);
      expect(await count('bucketlists', doomed.id)).toBe(2);

      await request(server).delete(`/api/users/${doomed.id}`).set(admin.auth).expect(204);

      expect(
        await db()
          .collection('users')
          .countDocuments({ _id: new Types.ObjectId(doomed.id) }),
      ).toBe(0);
      expect(await count('todos', doomed.id)).toBe(0);
      expect(await count('bucketlists', doomed.id)).toBe(0);
      expect(await count('todos', keeper.id)).toBe(2);
      expect(await count('bucketlists', keeper.id)).toBe(2);
    });

    it('refuses a non-admin (403) and deletes nothing', async () => {
      const victim = await make.user();
      const attacker = await make.user();
      await seed(victim);
      await request(server).delete(`/api/users/${victim.id}`).set(attacker.auth).expect(403);
      expect(await count('todos', victim.id)).toBe(2);
      expect(await count('bucketlists', victim.id)).toBe(2);
    });
  });
});

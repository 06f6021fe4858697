import { getConnectionToken } from '@nestjs/mongoose';
import { Types } from 'mongoose';
import type { Connection } from 'mongoose';
import request from 'supertest';
import { OwnedResources } from '../src/auth/index.js';
import { createTestApp } from './support/app.js';
import type { TestApp } from './support/app.js';
import { loginAdmin, signupAndLogin } from './support/users.js';
import type { TestUser } from './support/users.js';

describe('deleting a user removes their todos and bucket lists', () => {
  let t: TestApp;
  let server: ReturnType<TestApp['app']['getHttpServer']>;
  let db: Connection;
  let admin: TestUser;

  beforeAll(async () => {
    t = await createTestApp({ label: 'cascade' });
    server = t.app.getHttpServer();
    db = t.app.get<Connection>(getConnectionToken());
    admin = await loginAdmin(t.app);
  });

  afterAll(() => t.close());

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
    db.collection(collection).countDocuments({ owner: new Types.ObjectId(owner) });

  it("removes the user's todos and bucket lists and leaves everyone else's", async () => {
    const doomed = await signupAndLogin(t.app);
    const keeper = await signupAndLogin(t.app);
    await seed(doomed);
    await seed(keeper);
    expect(await count('todos', doomed.id)).toBe(2);
    expect(await count('bucketlists', doomed.id)).toBe(2);

    await request(server).delete(`/api/users/${doomed.id}`).set(admin.auth).expect(204);

    expect(
      await db.collection('users').countDocuments({ _id: new Types.ObjectId(doomed.id) }),
    ).toBe(0);
    expect(await count('todos', doomed.id)).toBe(0);
    expect(await count('bucketlists', doomed.id)).toBe(0);
    expect(await count('todos', keeper.id)).toBe(2);
    expect(await count('bucketlists', keeper.id)).toBe(2);
    const anonymous = await request(server).get('/api/todos').expect(200);
    expect(anonymous.body.total).toBe(2);
  });

  it('refuses a non-admin (403) and deletes nothing', async () => {
    const victim = await signupAndLogin(t.app);
    const attacker = await signupAndLogin(t.app);
    await seed(victim);
    await request(server).delete(`/api/users/${victim.id}`).set(attacker.auth).expect(403);
    expect(await count('todos', victim.id)).toBe(2);
    expect(await count('bucketlists', victim.id)).toBe(2);
  });
});

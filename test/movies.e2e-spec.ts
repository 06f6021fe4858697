import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { Types } from 'mongoose';
import request from 'supertest';

import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';
import type { Fixtures } from './support/fixtures.js';
import { fixtures } from './support/fixtures.js';
import type { TestUser } from './support/users.js';

describe('movies', () => {
  let t: TestApp;
  let server: ReturnType<TestApp['app']['getHttpServer']>;
  let db: Connection;
  let owner: TestUser;
  let other: TestUser;
  let admin: TestUser;
  let make: Fixtures;

  beforeAll(async () => {
    t = await createTestApp({ label: 'movies' });
    server = t.app.getHttpServer();
    db = t.app.get<Connection>(getConnectionToken());
    make = fixtures(t.app);
    [owner, other, admin] = await Promise.all([make.user(), make.user(), make.admin()]);
  });

  afterAll(() => t.close());

  const stored = (id: string) => db.collection('movies').findOne({ _id: new Types.ObjectId(id) });

  it('creates a movie owned by the caller', async () => {
    const movie = await make.movie(owner, { name: 'The Owner Movie' });
    expect(movie.addedBy).toBe(owner.id);
    expect((await stored(movie.id))?.addedBy).toEqual(new Types.ObjectId(owner.id));
  });

  it('needs a login to create', async () => {
    const res = await request(server)
      .post('/api/movies')
      .send({ name: 'Anon', casts: ['a'], genres: ['b'] });
    expect(res.status).toBe(401);
    expect(await db.collection('movies').countDocuments({ name: 'Anon' })).toBe(0);
  });

  it('refuses an addedBy in the body', async () => {
    const res = await request(server)
      .post('/api/movies')
      .set(owner.auth)
      .send({ name: 'Spoofed', casts: ['a'], genres: ['b'], addedBy: other.id });
    expect(res.status).toBe(400);
    expect(await db.collection('movies').countDocuments({ name: 'Spoofed' })).toBe(0);
  });

  it.each([
    ['no casts', { name: 'X1', casts: [], genres: ['b'] }],
    ['no genres', { name: 'X2', casts: ['a'], genres: [] }],
    ['no name', { casts: ['a'], genres: ['b'] }],
    ['casts not strings', { name: 'X3', casts: [1], genres: ['b'] }],
    ['operator object as name', { name: { $gt: '' }, casts: ['a'], genres: ['b'] }],
  ])('refuses an invalid body (%s)', async (_why, body) => {
    await request(server).post('/api/movies').set(owner.auth).send(body).expect(400);
  });

  it('refuses a duplicate name with 409', async () => {
    await make.movie(owner, { name: 'Unique Name' });
    const res = await request(server)
      .post('/api/movies')
      .set(other.auth)
      .send({ name: 'Unique Name', casts: ['a'], genres: ['b'] });
    expect(res.status).toBe(409);
    expect(await db.collection('movies').countDocuments({ name: 'Unique Name' })).toBe(1);
  });

  it('lists and reads movies without a login', async () => {
    const movie = await make.movie(owner);
    const list = await request(server).get('/api/movies').expect(200);
    expect(list.body).toMatchObject({ page: 1, limit: 20 });
    expect(list.body.total).toBeGreaterThan(0);
    const one = await request(server).get(`/api/movies/${movie.id}`).expect(200);
    expect(one.body).toMatchObject({ id: movie.id, name: movie.name });
  });

  it('paginates, caps the page size and filters by genre and addedBy', async () => {
    const mine = await make.movie(other, { genres: ['noir', 'crime'] });
    await make.movie(other, { genres: ['noir'] });
    const byGenre = await request(server).get('/api/movies?genre=noir').expect(200);
    expect(byGenre.body.total).toBe(2);
    const crime = await request(server).get('/api/movies?genre=crime').expect(200);
    expect(crime.body.items.map((m: { id: string }) => m.id)).toEqual([mine.id]);
    const byOwner = await request(server)
      .get(`/api/movies?addedBy=${other.id}&limit=1`)
      .expect(200);
    expect(byOwner.body).toMatchObject({ total: 2, limit: 1 });
    expect(byOwner.body.items).toHaveLength(1);
    const me = await request(server).get('/api/movies?addedBy=me').set(other.auth).expect(200);
    expect(me.body.total).toBe(2);
    await request(server).get('/api/movies?addedBy=me').expect(401);
    await request(server).get('/api/movies?limit=500').expect(400);
    await request(server).get('/api/movies?addedBy=nobody').expect(400);
    await request(server).get('/api/movies?genre[$ne]=x').expect(400);
  });

  it('answers 400 for a bad id and 404 for a missing movie', async () => {
    await request(server).get('/api/movies/not-an-id').expect(400);
    await request(server).get(`/api/movies/${new Types.ObjectId().toString()}`).expect(404);
    await request(server)
      .patch(`/api/movies/${new Types.ObjectId().toString()}`)
      .set(owner.auth)
      .send({ name: 'x' })
      .expect(404);
    await request(server).delete('/api/movies/zzz').set(owner.auth).expect(400);
  });

  it('lets the owner PUT and PATCH', async () => {
    const movie = await make.movie(owner);
    const put = await request(server)
      .put(`/api/movies/${movie.id}`)
      .set(owner.auth)
      .send({ name: `${movie.name} (PUT)`, casts: ['New cast'], genres: ['comedy'] });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      name: `${movie.name} (PUT)`,
      casts: ['New cast'],
      genres: ['comedy'],
    });
    const patch = await request(server)
      .patch(`/api/movies/${movie.id}`)
      .set(owner.auth)
      .send({ genres: ['x'] });
    expect(patch.body).toMatchObject({
      name: `${movie.name} (PUT)`,
      genres: ['x'],
      addedBy: owner.id,
    });
    await request(server)
      .put(`/api/movies/${movie.id}`)
      .set(owner.auth)
      .send({ name: 'partial' })
      .expect(400);
  });

  it('refuses another user with 403 and changes nothing', async () => {
    const movie = await make.movie(owner);
    const before = await stored(movie.id);
    await request(server)
      .patch(`/api/movies/${movie.id}`)
      .set(other.auth)
      .send({ name: 'Hijacked' })
      .expect(403);
    await request(server)
      .put(`/api/movies/${movie.id}`)
      .set(other.auth)
      .send({ name: 'Hijacked', casts: ['a'], genres: ['b'] })
      .expect(403);
    await request(server).delete(`/api/movies/${movie.id}`).set(other.auth).expect(403);
    expect(await stored(movie.id)).toEqual(before);
  });

  it('never lets an update change the owner', async () => {
    const movie = await make.movie(owner);
    await request(server)
      .patch(`/api/movies/${movie.id}`)
      .set(owner.auth)
      .send({ addedBy: other.id })
      .expect(400);
    expect((await stored(movie.id))?.addedBy).toEqual(new Types.ObjectId(owner.id));
  });

  it("lets an admin update and delete anyone's movie", async () => {
    const movie = await make.movie(owner);
    const res = await request(server)
      .patch(`/api/movies/${movie.id}`)
      .set(admin.auth)
      .send({ casts: ['Admin'] });
    expect(res.status).toBe(200);
    expect(res.body.addedBy).toBe(owner.id);
    await request(server).delete(`/api/movies/${movie.id}`).set(admin.auth).expect(204);
    expect(await stored(movie.id)).toBeNull();
  });

  it('lets the owner delete', async () => {
    const movie = await make.movie(owner);
    await request(server).delete(`/api/movies/${movie.id}`).set(owner.auth).expect(204);
    await request(server).get(`/api/movies/${movie.id}`).expect(404);
  });

  it('refuses a rename onto an existing name with 409', async () => {
    const a = await make.movie(owner);
    const b = await make.movie(owner);
    await request(server)
      .patch(`/api/movies/${b.id}`)
      .set(owner.auth)
      .send({ name: a.name })
      .expect(409);
    expect((await stored(b.id))?.name).toBe(b.name);
  });
});

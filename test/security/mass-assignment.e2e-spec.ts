import request from 'supertest';

import type { TestApp } from '../support/app.js';
import { createTestApp } from '../support/app.js';
import { expectUnchangedAfter } from '../support/db.js';
import { blackPng } from '../support/images.js';
import type { TestUser } from '../support/users.js';
import { loginAdmin, signupAndLogin, STRONG_PASSWORD } from '../support/users.js';

/**
 * Fields a client must never set: role, active flag, owner, ids, hashes, timestamps. Each request
 * carrying one is refused with 400 and changes nothing.
 */
describe('mass assignment', () => {
  let t: TestApp;
  let server: ReturnType<TestApp['app']['getHttpServer']>;
  let owner: TestUser;
  let other: TestUser;
  let admin: TestUser;
  let movieId: string;
  let bookId: string;

  beforeAll(async () => {
    t = await createTestApp({ label: 'sec_mass' });
    server = t.app.getHttpServer();
    [owner, other, admin] = await Promise.all([
      signupAndLogin(t.app),
      signupAndLogin(t.app),
      loginAdmin(t.app),
    ]);
    const res = await request(server)
      .post('/api/movies')
      .set(owner.auth)
      .send({ name: 'Owned', casts: ['a'], genres: ['b'] })
      .expect(201);
    movieId = res.body.id;
    const book = await request(server)
      .post('/api/books')
      .set(owner.auth)
      .field('title', 'Owned book')
      .field('category', 'poetry')
      .attach('cover_image', blackPng(60, 40), { filename: 'c.png', contentType: 'image/png' })
      .expect(201);
    bookId = book.body.id;
  });

  afterAll(() => t.close());

  async function expectRefused(send: () => request.Test): Promise<void> {
    const unchanged = await expectUnchangedAfter(t.app);
    const res = await send();
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400 });
    await unchanged();
  }

  const signupBody = (extra: object) => ({
    email: `mass-${Date.now()}@example.com`,
    password: STRONG_PASSWORD,
    name: 'Mass',
    ...extra,
  });

  it.each([
    ['role', { role: 'admin' }],
    ['active', { active: false }],
    [
      'passwordHash',
      { passwordHash: '$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234' },
    ],
    ['_id', { _id: '000000000000000000000001' }],
    ['createdAt', { createdAt: '2000-01-01T00:00:00.000Z' }],
  ])('signup with %s', (_field, extra) =>
    expectRefused(() => request(server).post('/api/auth/signup').send(signupBody(extra))),
  );

  it.each([
    ['role', { role: 'admin' }],
    ['active', { active: true }],
    ['email', { email: 'taken-over@example.com' }],
    ['passwordChangedAt', { passwordChangedAt: null }],
  ])('PATCH /api/users/me with %s', (_field, extra) =>
    expectRefused(() =>
      request(server)
        .patch('/api/users/me')
        .set(owner.auth)
        .send({ name: 'x', ...extra }),
    ),
  );

  it.each([
    ['email', { email: 'hijack@example.com' }],
    ['passwordHash', { passwordHash: 'x' }],
  ])('admin PATCH /api/users/:id with %s', (_field, extra) =>
    expectRefused(() =>
      request(server).patch(`/api/users/${other.id}`).set(admin.auth).send(extra),
    ),
  );

  it('movie create with addedBy set to another user', () =>
    expectRefused(() =>
      request(server)
        .post('/api/movies')
        .set(owner.auth)
        .send({ name: 'Framed', casts: ['a'], genres: ['b'], addedBy: other.id }),
    ));

  it('movie replace (PUT) with addedBy', () =>
    expectRefused(() =>
      request(server)
        .put(`/api/movies/${movieId}`)
        .set(owner.auth)
        .send({ name: 'Owned', casts: ['a'], genres: ['b'], addedBy: other.id }),
    ));

  it('movie update (PATCH) with addedBy', () =>
    expectRefused(() =>
      request(server).patch(`/api/movies/${movieId}`).set(owner.auth).send({ addedBy: other.id }),
    ));

  it('movie update (PATCH) with _id', () =>
    expectRefused(() =>
      request(server)
        .patch(`/api/movies/${movieId}`)
        .set(owner.auth)
        .send({ _id: '000000000000000000000001' }),
    ));

  it('movie update by an admin with addedBy (the owner cannot be reassigned by anyone)', () =>
    expectRefused(() =>
      request(server).patch(`/api/movies/${movieId}`).set(admin.auth).send({ addedBy: admin.id }),
    ));

  it('book create (multipart) with owner set to another user', () =>
    expectRefused(() =>
      request(server)
        .post('/api/books')
        .set(owner.auth)
        .field('title', 'Framed book')
        .field('category', 'poetry')
        .field('owner', other.id)
        .attach('cover_image', blackPng(60, 40), { filename: 'c.png', contentType: 'image/png' }),
    ));

  it('book update (PATCH, JSON) with owner', () =>
    expectRefused(() =>
      request(server).patch(`/api/books/${bookId}`).set(owner.auth).send({ owner: other.id }),
    ));

  it('book replace (PUT, multipart) with owner', () =>
    expectRefused(() =>
      request(server)
        .put(`/api/books/${bookId}`)
        .set(owner.auth)
        .field('title', 'Owned book')
        .field('description', '')
        .field('category', 'poetry')
        .field('owner', other.id),
    ));

  const postTodo = (extra: object) =>
    request(server)
      .post('/api/todos')
      .set(owner.auth)
      .send({ title: 'Mass todo', due: '2030-01-01T00:00:00Z', ...extra });

  it('todo create with owner set to another user', () =>
    expectRefused(() => postTodo({ owner: other.id })));

  it('todo create with done', () => expectRefused(() => postTodo({ done: true })));

  it('todo update (PATCH) by its owner with done (only the admin route sets it)', async () => {
    const todo = await request(server)
      .post('/api/todos')
      .set(owner.auth)
      .send({ title: 'Not done yet', due: '2030-01-01T00:00:00Z' })
      .expect(201);
    await expectRefused(() =>
      request(server).patch(`/api/todos/${todo.body.id}`).set(owner.auth).send({ done: true }),
    );
  });

  it('bucket list create with owner set to another user', () =>
    expectRefused(() =>
      request(server)
        .post('/api/bucketlists')
        .set(owner.auth)
        .send({ name: 'Framed list', owner: other.id }),
    ));
});

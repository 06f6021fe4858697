import request from 'supertest';

import type { TestApp } from '../support/app.js';
import { createTestApp } from '../support/app.js';
import { expectUnchangedAfter } from '../support/db.js';
import { blackPng } from '../support/images.js';
import type { TestUser } from '../support/users.js';
import { loginAdmin, signupAndLogin, STRONG_PASSWORD } from '../support/users.js';

/**
 * Query-operator injection, prototype pollution and hostile keys. Each request is refused with
 * 400, leaks no data and changes nothing.
 */
describe('injection attacks', () => {
  let t: TestApp;
  let server: ReturnType<TestApp['app']['getHttpServer']>;
  let owner: TestUser;
  let admin: TestUser;
  let movieId: string;

  beforeAll(async () => {
    t = await createTestApp({ label: 'sec_injection' });
    server = t.app.getHttpServer();
    [owner, admin] = await Promise.all([signupAndLogin(t.app), loginAdmin(t.app)]);
    for (const name of ['Alpha', 'Beta']) {
      const res = await request(server)
        .post('/api/movies')
        .set(owner.auth)
        .send({ name, casts: ['Cast'], genres: ['drama'] })
        .expect(201);
      movieId = res.body.id;
    }
    // Someone else's book: an operator that widened the owner filter would leak it.
    await request(server)
      .post('/api/books')
      .set(admin.auth)
      .field('title', 'Alpha book')
      .field('category', 'poetry')
      .attach('cover_image', blackPng(60, 40), { filename: 'c.png', contentType: 'image/png' })
      .expect(201);
  });

  afterAll(() => t.close());

  async function expectRefused(send: () => request.Test): Promise<request.Response> {
    const unchanged = await expectUnchangedAfter(t.app);
    const res = await send();
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(res.body.accessToken).toBeUndefined();
    expect(res.body.items).toBeUndefined();
    expect(res.text).not.toMatch(/Alpha|Beta|passwordHash|\$2[aby]\$/);
    await unchanged();
    return res;
  }

  const unpolluted = () => {
    const probe: Record<string, unknown> = {};
    expect(probe.polluted).toBeUndefined();
    expect(probe.role).toBeUndefined();
    expect(Object.prototype).toEqual({});
  };

  describe('NoSQL operators', () => {
    it.each([
      ['$ne', { email: { $ne: null }, password: { $ne: null } }],
      ['$gt', { email: { $gt: '' }, password: { $gt: '' } }],
      ['$regex', { email: { $regex: '.*' }, password: STRONG_PASSWORD }],
      ['$where', { email: 'someone@example.com', password: { $where: 'return true' } }],
    ])('in login fields (%s)', (_op, body) =>
      expectRefused(() => request(server).post('/api/auth/login').send(body)),
    );

    it.each([
      ['genre[$ne]=x'],
      ['addedBy[$gt]='],
      ['genre[$regex]=.*'],
      ['addedBy[$ne]=000000000000000000000000'],
    ])('in a query string: GET /api/movies?%s', (query) =>
      expectRefused(() => request(server).get(`/api/movies?${query}`)),
    );

    it.each([['owner[$ne]=000000000000000000000000'], ['category[$ne]=poetry']])(
      'in a query string: GET /api/books?%s',
      (query) => expectRefused(() => request(server).get(`/api/books?${query}`).set(owner.auth)),
    );

    it.each([
      ['/api/todos?sort[$ne]=due'],
      ['/api/bucketlists?owner[$ne]=000000000000000000000000'],
    ])('in a query string: GET %s', (path) =>
      expectRefused(() => request(server).get(path).set(owner.auth)),
    );

    it('in an admin query string: GET /api/users?role[$ne]=user', () =>
      expectRefused(() => request(server).get('/api/users?role[$ne]=user').set(admin.auth)));

    it('as a JSON string that looks like an operator: genre={"$ne":"x"} matches nothing', async () => {
      const res = await request(server).get(
        `/api/movies?genre=${encodeURIComponent('{"$ne":"x"}')}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.items).toEqual([]);
    });
  });

  describe('prototype pollution', () => {
    it('__proto__ in a JSON body', async () => {
      await expectRefused(() =>
        request(server)
          .post('/api/auth/signup')
          .set('Content-Type', 'application/json')
          .send(
            `{"email":"proto@example.com","password":"${STRONG_PASSWORD}","name":"P",` +
              '"__proto__":{"polluted":"yes","role":"admin"}}',
          ),
      );
      unpolluted();
    });

    it('constructor.prototype in a JSON body', async () => {
      await expectRefused(() =>
        request(server)
          .post('/api/auth/signup')
          .set('Content-Type', 'application/json')
          .send(
            `{"email":"ctor@example.com","password":"${STRONG_PASSWORD}","name":"C",` +
              '"constructor":{"prototype":{"polluted":"yes","role":"admin"}}}',
          ),
      );
      unpolluted();
    });

    it('__proto__ nested inside a field of an authenticated request', async () => {
      await expectRefused(() =>
        request(server)
          .patch(`/api/movies/${movieId}`)
          .set(owner.auth)
          .set('Content-Type', 'application/json')
          .send('{"casts":[{"__proto__":{"polluted":"yes"}}]}'),
      );
      unpolluted();
    });

    it('__proto__ in a query string', async () => {
      await expectRefused(() =>
        request(server).get('/api/movies?__proto__[polluted]=yes&constructor[prototype][role]=x'),
      );
      unpolluted();
    });
  });

  describe('dotted and $-prefixed keys in bodies', () => {
    it.each([
      ['$set at the top level', { $set: { addedBy: '000000000000000000000000' } }],
      ['a dotted path', { 'casts.0': 'Overwritten' }],
      ['$where', { name: 'x', $where: 'sleep(1000)' }],
      ['an operator inside an array', { casts: [{ $gt: '' }] }],
      ['a dotted key inside an array element', { genres: [{ 'a.b': 'c' }] }],
    ])('PATCH /api/movies/:id with %s', (_what, body) =>
      expectRefused(() =>
        request(server).patch(`/api/movies/${movieId}`).set(owner.auth).send(body),
      ),
    );

    it.each([
      ['$-prefixed key', { name: 'Alpha 2', casts: ['a'], genres: ['b'], $inc: { x: 1 } }],
      ['dotted key', { name: 'Alpha 3', casts: ['a'], genres: ['b'], 'addedBy.$id': 'x' }],
    ])('POST /api/movies with a %s', (_what, body) =>
      expectRefused(() => request(server).post('/api/movies').set(owner.auth).send(body)),
    );

    it('PATCH /api/users/me with a $-prefixed key', () =>
      expectRefused(() =>
        request(server)
          .patch('/api/users/me')
          .set(owner.auth)
          .send({ name: 'x', $set: { role: 'admin' } }),
      ));
  });
});

import request from 'supertest';

import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';
import type { TestUser } from './support/users.js';
import { loginAdmin, signupAndLogin } from './support/users.js';

/** Every list route, whatever the query string: 400 for what it cannot serve, never a 5xx. */
describe('pagination bounds on every list', () => {
  let t: TestApp;
  let server: ReturnType<TestApp['app']['getHttpServer']>;
  let user: TestUser;
  let admin: TestUser;

  beforeAll(async () => {
    t = await createTestApp({ label: 'pagination' });
    server = t.app.getHttpServer();
    [user, admin] = await Promise.all([signupAndLogin(t.app), loginAdmin(t.app)]);
  });

  afterAll(() => t.close());

  // Users is admin only; the others are read with an ordinary user's token.
  const routes = ['/api/movies', '/api/books', '/api/todos', '/api/bucketlists', '/api/users'];
  const get = (route: string, qs: string) =>
    request(server)
      .get(`${route}?${qs}`)
      .set(route === '/api/users' ? admin.auth : user.auth);

  describe.each(routes)('%s', (route) => {
    it('still serves the last allowed page (200, empty)', async () => {
      const res = await get(route, 'page=10000&limit=100');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ items: [], page: 10000, limit: 100 });
    });

    it.each(['1000000', '1000000000000', '9007199254740993', '1e300'])(
      'refuses page=%s with 400 naming the bound',
      async (page) => {
        const res = await get(route, `page=${page}`);
        expect(res.status).toBe(400);
        expect(res.body.message).toEqual(
          expect.arrayContaining([expect.stringMatching(/page must not be greater than 10000/)]),
        );
      },
    );

    it.each([
      'page=1&page=2',
      'limit=10&limit=20',
      'limit=1e3',
      'page=',
      'limit=',
      'page=-1',
      'page=1.5',
      'page=Infinity',
      'page=NaN',
      'page=%00',
      'limit=99999999999999999999999',
      'page[a]=1',
      'page=10001',
    ])('refuses %s with 400', async (qs) => {
      const res = await get(route, qs);
      expect(res.status).toBe(400);
    });

    it.each([
      'genre=a&genre=b',
      'addedBy=me&addedBy=me',
      'owner=me&owner=me',
      'category=science&category=poetry',
      'sort=due&sort=createdAt',
      'order=',
      'active=true&active=false',
      'role=',
      'genre=%00',
      'x[$ne]=1',
      '__proto__=1',
      'constructor=1',
      'skip=5',
      'page=1&limit=1&' + 'p=1&'.repeat(500),
    ])('never answers %s with a 5xx', async (qs) => {
      const res = await get(route, qs);
      expect(res.status).toBeGreaterThanOrEqual(200);
      expect(res.status).toBeLessThan(500);
    });
  });

  it('documents the bounds in the OpenAPI schema', async () => {
    const doc = await request(server).get('/api/docs-json').expect(200);
    for (const route of routes) {
      const params = doc.body.paths[route].get.parameters as {
        name: string;
        schema: { maximum?: number };
      }[];
      expect(params.find((p) => p.name === 'page')?.schema.maximum).toBe(10000);
      expect(params.find((p) => p.name === 'limit')?.schema.maximum).toBe(100);
    }
  });
});

import { randomUUID } from 'node:crypto';

import type { Test } from 'supertest';
import request from 'supertest';

import type { TestApp } from '../support/app.js';
import { createTestApp } from '../support/app.js';
import { expectUnchangedAfter } from '../support/db.js';
import type { Fixtures } from '../support/fixtures.js';
import { fixtures } from '../support/fixtures.js';
import { blackPng } from '../support/images.js';
import { registeredRoutes } from '../support/routes.js';
import type { TestUser } from '../support/users.js';

/**
 * Insecure direct object references: a logged-in user acts on something that is not theirs by
 * putting its id in the URL. One row per route; each is refused (403, or 404 for resources that
 * are private to their owner) without leaking the target and without changing any collection.
 *
 * Every `@Owned` route is also swept without a row (the last test): a resource of its model from
 * test/support/fixtures.ts, the attacker's request without a body, refused before validation. Rows
 * add what the sweep cannot: hostile bodies, lists, secrets that must not leak. `target` creates
 * the victim's resource through the API and returns the path parameters.
 */
interface Context {
  app: TestApp['app'];
  /** Owns the targets. */
  victim: TestUser;
  /** A normal user who owns none of them. */
  attacker: TestUser;
  make: Fixtures;
}

interface IdorRow {
  route: string;
  /** Test name when one route has several rows. */
  name?: string;
  target?: (ctx: Context) => Promise<Record<string, string>>;
  body?: (ctx: Context) => object;
  /** A custom body (e.g. multipart) instead of `body`. */
  send?: (req: Test, ctx: Context) => Test;
  /** 403 for shared resources, 404 for private ones (their existence is not revealed). */
  expected: 403 | 404;
  /** Text of the victim's resource that must not appear in the answer. */
  secret?: (ctx: Context) => string;
}

/** The route parameters of a new resource of `kind` owned by the victim, with `fields`. */
const victimOwns =
  (
    kind: 'movie' | 'book' | 'todo' | 'bucketlist',
    fields: () => Record<string, string> = () => ({}),
  ) =>
  ({ make, victim }: Context): Promise<Record<string, string>> =>
    make[kind](victim, fields()).then(({ id }) => ({ id }));

const victimMovie = victimOwns('movie');
// Book titles are unique per owner; the secret is the prefix.
const victimBook = victimOwns('book', () => ({ title: `Victim's book ${randomUUID()}` }));
const victimTodo = victimOwns('todo', () => ({
  title: "Victim's todo",
  description: 'private plans',
  due: '2030-01-01T00:00:00Z',
}));
const victimBucketlist = victimOwns('bucketlist', () => ({ name: "Victim's bucket list" }));
const victimUser = ({ victim }: Context) => Promise.resolve({ id: victim.id });

const cover = (req: Test) =>
  req.attach('cover_image', blackPng(60, 40), { filename: 'c.png', contentType: 'image/png' });

const ROWS: IdorRow[] = [
  {
    route: 'PUT /api/movies/:id',
    target: victimMovie,
    body: () => ({ name: 'Hijacked', casts: ['x'], genres: ['y'] }),
    expected: 403,
  },
  {
    route: 'PATCH /api/movies/:id',
    target: victimMovie,
    body: () => ({ name: 'Hijacked' }),
    expected: 403,
  },
  { route: 'DELETE /api/movies/:id', target: victimMovie, expected: 403 },

  {
    route: 'GET /api/books',
    name: "GET /api/books?owner=<victim> (another user's list)",
    target: victimBook,
    send: (req, { victim }) => req.query({ owner: victim.id }),
    expected: 403,
    secret: () => "Victim's book",
  },
  {
    route: 'PUT /api/books/:id',
    target: victimBook,
    body: () => ({ title: 'Hijacked', description: 'x', category: 'horror' }),
    expected: 403,
  },
  {
    route: 'PATCH /api/books/:id',
    target: victimBook,
    body: () => ({ title: 'Hijacked' }),
    expected: 403,
  },
  {
    route: 'PATCH /api/books/:id',
    name: 'PATCH /api/books/:id (replace the cover, multipart)',
    target: victimBook,
    send: (req) => cover(req.field('title', 'Hijacked')),
    expected: 403,
  },
  { route: 'DELETE /api/books/:id', target: victimBook, expected: 403 },

  {
    route: 'GET /api/todos/:id',
    target: victimTodo,
    expected: 403,
    secret: () => 'private plans',
  },
  {
    route: 'PUT /api/todos/:id',
    target: victimTodo,
    body: () => ({ title: 'Hijacked', due: '2031-01-01T00:00:00Z' }),
    expected: 403,
  },
  {
    route: 'PATCH /api/todos/:id',
    target: victimTodo,
    body: () => ({ title: 'Hijacked' }),
    expected: 403,
  },
  {
    route: 'PATCH /api/todos/:id/done',
    name: 'PATCH /api/todos/:id/done (admin only)',
    target: victimTodo,
    body: () => ({ done: true }),
    expected: 403,
  },
  { route: 'DELETE /api/todos/:id', target: victimTodo, expected: 403 },

  // Bucket lists are private: another user's list answers 404, as if it did not exist.
  {
    route: 'GET /api/bucketlists',
    name: "GET /api/bucketlists?owner=<victim> (another user's lists)",
    target: victimBucketlist,
    send: (req, { victim }) => req.query({ owner: victim.id }),
    expected: 403,
    secret: () => "Victim's bucket list",
  },
  {
    route: 'GET /api/bucketlists/:id',
    target: victimBucketlist,
    expected: 404,
    secret: () => "Victim's bucket list",
  },
  {
    route: 'PUT /api/bucketlists/:id',
    target: victimBucketlist,
    body: () => ({ name: 'Hijacked' }),
    expected: 404,
  },
  {
    route: 'PATCH /api/bucketlists/:id',
    target: victimBucketlist,
    body: () => ({ name: 'Hijacked' }),
    expected: 404,
  },
  { route: 'DELETE /api/bucketlists/:id', target: victimBucketlist, expected: 404 },

  {
    route: 'GET /api/users/:id',
    target: victimUser,
    expected: 403,
    secret: ({ victim }) => victim.email,
  },
  { route: 'GET /api/users', expected: 403, secret: ({ victim }) => victim.email },
  {
    route: 'PATCH /api/users/:id',
    name: 'PATCH /api/users/:id (disable the victim)',
    target: victimUser,
    body: () => ({ active: false }),
    expected: 403,
  },
  {
    route: 'PATCH /api/users/:id',
    name: 'PATCH /api/users/:id (make oneself admin)',
    target: ({ attacker }) => Promise.resolve({ id: attacker.id }),
    body: () => ({ role: 'admin' }),
    expected: 403,
  },
  { route: 'DELETE /api/users/:id', target: victimUser, expected: 403 },
];

describe('IDOR: acting on another user’s resources', () => {
  let t: TestApp;
  let ctx: Context;

  beforeAll(async () => {
    t = await createTestApp({ label: 'sec_idor' });
    const make = fixtures(t.app);
    const [victim, attacker] = await Promise.all([make.user(), make.user()]);
    ctx = { app: t.app, victim, attacker, make };
  });

  afterAll(() => t.close());

  it.each(ROWS.map((row) => [row.name ?? row.route, row] as const))('%s', async (_name, row) => {
    const params = row.target ? await row.target(ctx) : {};
    const [method, template] = row.route.split(' ');
    const path = template.replace(/:(\w+)/g, (_m, name: string) => params[name]);
    const unchanged = await expectUnchangedAfter(t.app);

    let req = request(t.app.getHttpServer())
      [method.toLowerCase() as 'get'](path)
      .set(ctx.attacker.auth);
    if (row.send) req = row.send(req, ctx);
    else if (row.body) req = req.send(row.body(ctx));
    const res = await req;

    expect(res.status).toBe(row.expected);
    expect(res.body).toMatchObject({ statusCode: row.expected });
    if (row.secret) expect(res.text).not.toContain(row.secret(ctx));
    await unchanged();
  });

  it('refuses another user on every @Owned route of every resource, changing nothing', async () => {
    const swept: { route: string; status: number }[] = [];
    const expected: typeof swept = [];
    for (const { route, method, path, owned } of registeredRoutes(t.app)) {
      if (!owned) continue;
      const { id } = await ctx.make.owned(owned.model, ctx.victim);
      const url = path.replace(`:${owned.param}`, id);
      if (url.includes('/:')) throw new Error(`${route}: parameters other than the id need a row`);
      // A resource whose documents are public one by one is private by default in its fixture.
      const hidden = owned.visibility === 'private' || owned.readableBy !== undefined;
      const unchanged = await expectUnchangedAfter(t.app);
      const res = await request(t.app.getHttpServer())
        [method.toLowerCase() as 'get'](url)
        .set(ctx.attacker.auth);
      swept.push({ route, status: res.status });
      expected.push({ route, status: hidden ? 404 : 403 });
      await unchanged().catch((error: Error) => {
        throw new Error(`${route} changed the database: ${error.message}`);
      });
    }
    expect(swept).toEqual(expected);
    expect(swept.length).toBeGreaterThan(0);
  });
});

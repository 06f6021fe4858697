import { Types } from 'mongoose';
import request from 'supertest';

import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';
import { connectionOf } from './support/db.js';
import { solidImage } from './support/images.js';
import type { TestUser } from './support/users.js';
import { loginAdmin, signupAndLogin } from './support/users.js';

type Server = ReturnType<TestApp['app']['getHttpServer']>;
const { ObjectId } = Types;
type Doc = Record<string, unknown> & { _id: Types.ObjectId };

const COPIES = 9;
const LIMIT = 2;
/** Three instants shared by three documents each: pages end inside runs of equal sort keys. */
const INSTANTS = [
  new Date('2024-01-01T00:00:00Z'),
  new Date('2024-01-02T00:00:00Z'),
  new Date('2024-01-03T00:00:00Z'),
];

/** Every page from `after`-cursors, from the first until `next` is null. */
async function walk(
  server: Server,
  route: string,
  auth: Record<string, string>,
  qs = '',
): Promise<{ ids: string[]; totals: number[]; pages: number }> {
  const ids: string[] = [];
  const totals: number[] = [];
  let after: string | null = null;
  let pages = 0;
  do {
    const cursor: string = after === null ? '' : `&after=${after}`;
    const res = await request(server).get(`${route}?limit=${LIMIT}${qs}${cursor}`).set(auth);
    expect(res.status).toBe(200);
    ids.push(...(res.body.items as { id: string }[]).map((i) => i.id));
    totals.push(res.body.total as number);
    after = res.body.next as string | null;
    pages++;
    if (pages > 50) throw new Error('cursor does not advance');
  } while (after !== null);
  return { ids, totals, pages };
}

/** Expected ids: the stored documents in (key, _id) order, both in the same direction. */
function ordered(docs: Doc[], key: string, direction: 1 | -1): string[] {
  return [...docs]
    .sort((a, b) => {
      const byKey = (a[key] as Date).getTime() - (b[key] as Date).getTime();
      return direction * (byKey || a._id.toHexString().localeCompare(b._id.toHexString()));
    })
    .map((d) => d._id.toHexString());
}

describe('keyset pagination (?after=<cursor>, next)', () => {
  let t: TestApp;
  let server: Server;
  let user: TestUser;
  let admin: TestUser;

  /** Clones of one document created through the API, with sort keys that tie in runs. */
  async function seed(collection: string, template: string, unique?: string): Promise<Doc[]> {
    const db = connectionOf(t.app).collection(collection);
    const original = (await db.findOne({ _id: new ObjectId(template) })) as Doc;
    const clones: Doc[] = Array.from({ length: COPIES }, (_, i) => ({
      ...original,
      _id: new ObjectId(),
      createdAt: INSTANTS[i % INSTANTS.length],
      due: INSTANTS[(i + 1) % INSTANTS.length],
      ...(unique ? { [unique]: `${String(original[unique])}-${i}` } : {}),
    }));
    await db.insertMany(clones);
    return [original, ...clones];
  }

  beforeAll(async () => {
    t = await createTestApp({ label: 'keyset' });
    server = t.app.getHttpServer();
    [user, admin] = await Promise.all([signupAndLogin(t.app), loginAdmin(t.app)]);
  });

  afterAll(() => t.close());

  it('walks every movie exactly once, newest first, through ties', async () => {
    const created = await request(server)
      .post('/api/movies')
      .set(user.auth)
      .send({ name: 'Keyset', casts: ['A'], genres: ['drama'] });
    expect(created.status).toBe(201);
    const docs = await seed('movies', created.body.id, 'name');
    const all = await walk(server, '/api/movies', {});
    expect(all.ids).toEqual(ordered(docs, 'createdAt', -1));
    expect(all.pages).toBe(Math.ceil(docs.length / LIMIT));
    expect(new Set(all.totals)).toEqual(new Set([docs.length]));
    // With a filter the same way (the cursor keeps the order, the filter is sent again).
    const mine = await walk(server, '/api/movies', user.auth, '&addedBy=me&genre=drama');
    expect(mine.ids).toEqual(all.ids);
  });

  it('walks every book of the caller exactly once', async () => {
    const created = await request(server)
      .post('/api/books')
      .set(user.auth)
      .field('title', 'Keyset')
      .field('description', 'd')
      .field('category', 'science')
      .attach('cover_image', await solidImage('jpeg', 40, 40), {
        filename: 'c.jpg',
        contentType: 'image/jpeg',
      });
    expect(created.status).toBe(201);
    const docs = await seed('books', created.body.id, 'title');
    const { ids } = await walk(server, '/api/books', user.auth);
    expect(ids).toEqual(ordered(docs, 'createdAt', -1));
  });

  it('walks every bucket list exactly once', async () => {
    const created = await request(server)
      .post('/api/bucketlists')
      .set(user.auth)
      .send({ name: 'Keyset' });
    expect(created.status).toBe(201);
    const docs = await seed('bucketlists', created.body.id);
    expect((await walk(server, '/api/bucketlists', user.auth)).ids).toEqual(
      ordered(docs, 'createdAt', -1),
    );
  });

  describe('todos', () => {
    let docs: Doc[];

    beforeAll(async () => {
      const created = await request(server)
        .post('/api/todos')
        .set(user.auth)
        .send({ title: 'Keyset', due: '2030-01-01T00:00:00.000Z' });
      expect(created.status).toBe(201);
      docs = await seed('todos', created.body.id);
    });

    it.each([
      ['', 'createdAt', -1],
      ['&sort=due', 'due', 1],
      ['&sort=due&order=desc', 'due', -1],
      ['&sort=createdAt&order=asc', 'createdAt', 1],
    ] as const)('walks every todo exactly once (%s)', async (qs, key, direction) => {
      expect((await walk(server, '/api/todos', user.auth, qs)).ids).toEqual(
        ordered(docs, key, direction),
      );
    });

    it('walks the anonymous window exactly once, in its order', async () => {
      const newest = ordered(docs, 'createdAt', -1).slice(0, 5);
      const window = docs.filter((d) => newest.includes(d._id.toHexString()));
      const { ids, totals } = await walk(server, '/api/todos', {}, '&sort=due');
      expect(ids).toEqual(ordered(window, 'due', 1));
      expect(new Set(totals)).toEqual(new Set([5]));
    });
  });

  it('walks every user exactly once, oldest first (admin list)', async () => {
    const docs = await seed('users', user.id, 'email');
    const stored = (await connectionOf(t.app).collection('users').find().toArray()) as Doc[];
    expect(stored.length).toBe(docs.length + 1);
    const { ids } = await walk(server, '/api/users', admin.auth);
    expect(ids).toEqual(ordered(stored, 'createdAt', 1));
    const users = await walk(server, '/api/users', admin.auth, '&role=user&active=true');
    expect(users.ids).toEqual(ordered(docs, 'createdAt', 1));
  });

  it('gives next on a full page in offset mode too, and null on the last page', async () => {
    const first = await request(server).get('/api/movies?limit=3&page=1');
    expect(first.body.next).toEqual(expect.any(String));
    const fromCursor = await request(server).get(`/api/movies?limit=3&after=${first.body.next}`);
    const second = await request(server).get('/api/movies?limit=3&page=2');
    expect(fromCursor.body.items).toEqual(second.body.items);
    const last = await request(server).get('/api/movies?limit=100');
    expect(last.body.next).toBeNull();
    expect(last.body.total).toBe(last.body.items.length);
  });

  describe('refuses cursors it did not issue, with 400', () => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const id = new ObjectId().toHexString();
    const cases: [string, string][] = [
      ['not base64url', '%%%'],
      ['not JSON', Buffer.from('{nope').toString('base64url')],
      ['JSON, not a cursor', encode({ a: 1 })],
      ['a cursor of another order', encode(['due,_id', 1, id])],
      ['too few values', encode(['createdAt,_id', 1])],
      ['a date that is not a number', encode(['createdAt,_id', '2024-01-01', id])],
      ['an unsafe number', encode(['createdAt,_id', 1e300, id])],
      ['an id that is not one', encode(['createdAt,_id', 1, 'x'.repeat(24)])],
      ['an operator for an id', encode(['createdAt,_id', 1, { $gt: '' }])],
      ['a proto key', encode({ __proto__: { polluted: true } })],
      ['an empty cursor', ''],
      ['a huge cursor', 'A'.repeat(600)],
    ];

    it.each(cases)('%s', async (_, cursor) => {
      for (const [route, auth] of [
        ['/api/movies', {}],
        ['/api/books', user.auth],
        ['/api/bucketlists', user.auth],
        ['/api/todos', user.auth],
        ['/api/todos', {}],
        ['/api/users', admin.auth],
      ] as const) {
        const res = await request(server).get(`${route}?after=${cursor}`).set(auth);
        expect({ route, status: res.status }).toEqual({ route, status: 400 });
      }
    });

    it('refuses after together with page > 1', async () => {
      const first = await request(server).get('/api/movies?limit=1');
      const res = await request(server).get(`/api/movies?page=2&after=${first.body.next}`);
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/either after or page/);
      const todo = await request(server).get(`/api/todos?sort=due&limit=1`).set(user.auth);
      const mixed = await request(server).get(`/api/todos?limit=1&after=${todo.body.next}`);
      expect(mixed.status).toBe(400);
    });
  });
});

import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { Types } from 'mongoose';
import request from 'supertest';

import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';
import type { Fixtures, TodoBody } from './support/fixtures.js';
import { fixtures } from './support/fixtures.js';
import { forgeToken } from './support/tokens.js';
import type { TestUser } from './support/users.js';

describe('todos', () => {
  let t: TestApp;
  let server: ReturnType<TestApp['app']['getHttpServer']>;
  let todos: ReturnType<Connection['collection']>;
  let admin: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  let make: Fixtures;

  beforeAll(async () => {
    t = await createTestApp({ label: 'todos' });
    server = t.app.getHttpServer();
    todos = t.app.get<Connection>(getConnectionToken()).collection('todos');
    make = fixtures(t.app);
    admin = await make.admin();
    alice = await make.user();
    bob = await make.user();
  });

  afterAll(() => t.close());

  const stored = (id: string) => todos.findOne({ _id: new Types.ObjectId(id) });
  const ids = (res: request.Response) => (res.body.items as { id: string }[]).map((i) => i.id);
  const dues = (res: request.Response) =>
    (res.body.items as { due: string }[]).map((i) => new Date(i.due).getTime());

  describe('create', () => {
    it('creates a todo owned by the caller, not done, with an empty default description', async () => {
      const res = await request(server)
        .post('/api/todos')
        .set(alice.auth)
        .send({ title: '  Buy milk ', due: '2030-05-01' });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        title: 'Buy milk',
        description: '',
        due: '2030-05-01T00:00:00.000Z',
        done: false,
        owner: alice.id,
      });
      const doc = await stored(res.body.id);
      expect(doc?.owner).toBeInstanceOf(Types.ObjectId);
      expect(doc?.owner.toString()).toBe(alice.id);
      expect(doc?.due).toEqual(new Date('2030-05-01T00:00:00Z'));
    });

    it('keeps an explicit offset in the due date', async () => {
      const todo = await make.todo(alice, { due: '2030-05-01T19:30+02:00' });
      expect(todo.due).toBe('2030-05-01T17:30:00.000Z');
    });

    it.each([
      ['owner', { owner: '0123456789abcdef01234567' }],
      ['userId', { userId: '0123456789abcdef01234567' }],
      ['done', { done: true }],
      ['_id', { _id: '0123456789abcdef01234567' }],
    ])('refuses a %s field in the body (400) and creates nothing', async (_field, extra) => {
      const title = `Sneaky ${Object.keys(extra)[0]}`;
      const res = await request(server)
        .post('/api/todos')
        .set(alice.auth)
        .send({ title, due: '2030-01-01', ...extra });
      expect(res.status).toBe(400);
      expect(await todos.countDocuments({ title })).toBe(0);
    });

    it.each([
      ['a word', 'tomorrow'],
      ['an impossible day', '2030-02-30'],
      ['an impossible month', '2030-13-01'],
      ['a time without an offset', '2030-06-30T10:00:00'],
      ['a space separator', '2030-06-30 10:00:00Z'],
      ['a week date', '2030-W01'],
      ['a number', 1893456000000],
      ['an empty string', ''],
      ['null', null],
    ])('refuses %s as due date (400) and creates nothing', async (_why, due) => {
      const title = `Bad due ${String(due)}`;
      const res = await request(server).post('/api/todos').set(alice.auth).send({ title, due });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.message)).toMatch(/due/);
      expect(await todos.countDocuments({ title })).toBe(0);
    });

    it('makes a todo without a due date due at its creation time (the seed: "due now")', async () => {
      const res = await request(server)
        .post('/api/todos')
        .set(alice.auth)
        .send({ title: 'No due date' });
      expect(res.status).toBe(201);
      expect(res.body.due).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(res.body.due).toBe(res.body.createdAt);
      const doc = await stored(res.body.id as string);
      expect(doc?.due).toEqual(doc?.createdAt);
    });

    it('requires a title', async () => {
      await request(server)
        .post('/api/todos')
        .set(alice.auth)
        .send({ due: '2030-01-01' })
        .expect(400);
      await request(server)
        .post('/api/todos')
        .set(alice.auth)
        .send({ title: '   ', due: '2030-01-01' })
        .expect(400);
    });

    it('needs a token (401)', async () => {
      const before = await todos.countDocuments();
      await request(server)
        .post('/api/todos')
        .send({ title: 'Anonymous', due: '2030-01-01' })
        .expect(401);
      expect(await todos.countDocuments()).toBe(before);
    });
  });

  describe('list', () => {
    beforeAll(async () => {
      // More than five todos across users, so the anonymous window has something to cut.
      for (const who of [alice, bob, admin, bob, alice, bob, alice]) await make.todo(who);
    });

    it('gives anonymous callers the 5 newest todos of everyone, public fields only', async () => {
      const res = await request(server).get('/api/todos').expect(200);
      expect(res.body).toMatchObject({ total: 5, page: 1, limit: 20 });
      expect(res.body.items).toHaveLength(5);
      for (const item of res.body.items) {
        expect(Object.keys(item).sort()).toEqual(['done', 'due', 'id', 'title']);
      }
      expect(res.text).not.toMatch(/Secret notes|owner|description/);
      const newest = await todos.find().sort({ createdAt: -1, _id: -1 }).limit(5).toArray();
      expect(ids(res)).toEqual(newest.map((doc) => doc._id.toString()));
      expect(await todos.countDocuments()).toBeGreaterThan(5);
    });

    it('pages through the anonymous window and never past it', async () => {
      const all = await request(server).get('/api/todos').expect(200);
      const page2 = await request(server).get('/api/todos?limit=2&page=2').expect(200);
      expect(page2.body).toMatchObject({ total: 5, page: 2, limit: 2 });
      expect(ids(page2)).toEqual(ids(all).slice(2, 4));
      const page3 = await request(server).get('/api/todos?limit=2&page=3').expect(200);
      expect(ids(page3)).toEqual(ids(all).slice(4, 5));
      const beyond = await request(server).get('/api/todos?limit=100&page=2').expect(200);
      expect(beyond.body).toMatchObject({ items: [], total: 5 });
      const big = await request(server).get('/api/todos?limit=100').expect(200);
      expect(big.body.items).toHaveLength(5);
    });

    it('shows a user only their own todos, in full', async () => {
      const res = await request(server).get('/api/todos?limit=100').set(bob.auth).expect(200);
      const owned = await todos.countDocuments({ owner: new Types.ObjectId(bob.id) });
      expect(owned).toBeGreaterThan(0);
      expect(res.body.total).toBe(owned);
      expect(res.body.items).toHaveLength(owned);
      for (const item of res.body.items) {
        expect(item.owner).toBe(bob.id);
        expect(item.description).toMatch(/Secret notes/);
      }
    });

    it('shows an admin every todo', async () => {
      const res = await request(server).get('/api/todos?limit=100').set(admin.auth).expect(200);
      expect(res.body.total).toBe(await todos.countDocuments());
      const owners = new Set((res.body.items as TodoBody[]).map((i) => i.owner));
      expect([...owners].sort()).toEqual([admin.id, alice.id, bob.id].sort());
    });

    it('lists newest first by default', async () => {
      const res = await request(server).get('/api/todos?limit=100').set(admin.auth).expect(200);
      const newest = await todos.find().sort({ createdAt: -1, _id: -1 }).toArray();
      expect(ids(res)).toEqual(newest.map((doc) => doc._id.toString()));
    });

    describe('sort=due', () => {
      let carol: TestUser;
      const order = ['2031-03-01', '2031-01-01', '2031-04-01', '2031-02-01'];

      beforeAll(async () => {
        carol = await make.user();
        for (const due of order) await make.todo(carol, { due });
      });

      it('sorts ascending and descending on the due date', async () => {
        const asc = await request(server)
          .get('/api/todos?sort=due&order=asc')
          .set(carol.auth)
          .expect(200);
        expect(dues(asc)).toEqual([...order].sort().map((d) => new Date(d).getTime()));
        const desc = await request(server)
          .get('/api/todos?sort=due&order=desc')
          .set(carol.auth)
          .expect(200);
        expect(dues(desc)).toEqual(
          [...order]
            .sort()
            .reverse()
            .map((d) => new Date(d).getTime()),
        );
      });

      it('defaults to soonest first and pages in sorted order', async () => {
        const res = await request(server)
          .get('/api/todos?sort=due&limit=2&page=2')
          .set(carol.auth)
          .expect(200);
        expect(res.body).toMatchObject({ total: 4, page: 2, limit: 2 });
        expect(dues(res)).toEqual(['2031-03-01', '2031-04-01'].map((d) => new Date(d).getTime()));
      });

      it('sorts the anonymous window by due date too', async () => {
        const asc = await request(server).get('/api/todos?sort=due&order=asc').expect(200);
        const desc = await request(server).get('/api/todos?sort=due&order=desc').expect(200);
        expect(asc.body.items).toHaveLength(5);
        const ascDues = dues(asc);
        expect(ascDues).toEqual([...ascDues].sort((a, b) => a - b));
        expect(ascDues[0]).toBeLessThan(ascDues[4]);
        expect([...ids(desc)].sort()).toEqual([...ids(asc)].sort());
        expect(dues(desc)).toEqual([...ascDues].reverse());
      });
    });

    it.each([
      ['an unknown sort key', 'sort=title'],
      ['an unknown order', 'order=up'],
      ['a limit over 100', 'limit=101'],
      ['page 0', 'page=0'],
      ['an unknown parameter', 'owner=0123456789abcdef01234567'],
    ])('refuses %s (400)', async (_why, qs) => {
      await request(server).get(`/api/todos?${qs}`).set(alice.auth).expect(400);
    });

    it.each([
      ['a garbled token', 'Bearer not.a.jwt'],
      ['a token signed with another secret', 'wrong-secret'],
      ['an expired token', 'expired'],
      ['an empty bearer', 'Bearer '],
    ])('answers %s with 401, never as anonymous', async (_why, kind) => {
      let header = kind;
      if (kind === 'wrong-secret') {
        header = `Bearer ${forgeToken({ sub: alice.id }, { secret: 'x'.repeat(40) })}`;
      } else if (kind === 'expired') {
        const iat = Math.floor(Date.now() / 1000) - 3600;
        header = `Bearer ${forgeToken({ sub: alice.id, iat }, { expiresIn: 60 })}`;
      }
      const res = await request(server).get('/api/todos').set('Authorization', header);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.body.items).toBeUndefined();
    });

    it('answers a disabled account with 403 and a deleted one with 401', async () => {
      const gone = await make.user();
      await request(server).delete('/api/users/me').set(gone.auth).expect(204);
      await request(server).get('/api/todos').set(gone.auth).expect(403);
      await request(server).delete(`/api/users/${gone.id}`).set(admin.auth).expect(204);
      await request(server).get('/api/todos').set(gone.auth).expect(401);
    });
  });

  describe('read, update and delete', () => {
    it('lets the owner and an admin read a todo; others get 403, anonymous 401', async () => {
      const todo = await make.todo(alice);
      const own = await request(server).get(`/api/todos/${todo.id}`).set(alice.auth).expect(200);
      expect(own.body).toEqual(todo);
      await request(server).get(`/api/todos/${todo.id}`).set(admin.auth).expect(200);
      const other = await request(server).get(`/api/todos/${todo.id}`).set(bob.auth);
      expect(other.status).toBe(403);
      expect(other.text).not.toContain(todo.title);
      await request(server).get(`/api/todos/${todo.id}`).expect(401);
    });

    it('answers 400 for a bad id and 404 for a missing one', async () => {
      await request(server).get('/api/todos/not-an-id').set(alice.auth).expect(400);
      await request(server).patch('/api/todos/123').set(admin.auth).send({}).expect(400);
      const missing = new Types.ObjectId().toString();
      await request(server).get(`/api/todos/${missing}`).set(alice.auth).expect(404);
      await request(server).delete(`/api/todos/${missing}`).set(admin.auth).expect(404);
    });

    it('lets the owner PATCH some fields and PUT all of them', async () => {
      const todo = await make.todo(alice);
      const patched = await request(server)
        .patch(`/api/todos/${todo.id}`)
        .set(alice.auth)
        .send({ title: 'Renamed' });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({
        title: 'Renamed',
        description: todo.description,
        due: todo.due,
        owner: alice.id,
      });
      const put = await request(server)
        .put(`/api/todos/${todo.id}`)
        .set(alice.auth)
        .send({ title: 'Replaced', due: '2032-01-01' });
      expect(put.status).toBe(200);
      expect(put.body).toMatchObject({
        title: 'Replaced',
        description: '',
        due: '2032-01-01T00:00:00.000Z',
      });
      expect(await stored(todo.id)).toMatchObject({ title: 'Replaced', description: '' });
      // PUT replaces with the create defaults: no due date means due at the time of the PUT.
      const before = Date.now();
      const noDue = await request(server)
        .put(`/api/todos/${todo.id}`)
        .set(alice.auth)
        .send({ title: 'No due' });
      expect(noDue.status).toBe(200);
      const due = Date.parse(noDue.body.due as string);
      expect(due).toBeGreaterThanOrEqual(before);
      expect(due).toBeLessThanOrEqual(Date.parse(noDue.body.updatedAt as string));
    });

    it.each([
      ['PATCH', 'patch', { title: 'Hijacked' }],
      ['PUT', 'put', { title: 'Hijacked', due: '2040-01-01' }],
    ] as const)(
      "refuses another user's %s with 403 and changes nothing",
      async (_m, method, body) => {
        const todo = await make.todo(alice);
        const before = await stored(todo.id);
        const res = await request(server)[method](`/api/todos/${todo.id}`).set(bob.auth).send(body);
        expect(res.status).toBe(403);
        expect(await stored(todo.id)).toEqual(before);
      },
    );

    it("refuses another user's DELETE with 403 and keeps the todo", async () => {
      const todo = await make.todo(alice);
      await request(server).delete(`/api/todos/${todo.id}`).set(bob.auth).expect(403);
      expect(await stored(todo.id)).not.toBeNull();
    });

    it.each([
      ['owner', { owner: '0123456789abcdef01234567' }],
      ['userId', { userId: '0123456789abcdef01234567' }],
      ['done', { done: true }],
    ])('refuses %s in an update body (400), even from an admin', async (_field, body) => {
      const todo = await make.todo(alice);
      const before = await stored(todo.id);
      for (const who of [alice, admin]) {
        await request(server).patch(`/api/todos/${todo.id}`).set(who.auth).send(body).expect(400);
        await request(server)
          .put(`/api/todos/${todo.id}`)
          .set(who.auth)
          .send({ title: 't', due: '2030-01-01', ...body })
          .expect(400);
      }
      expect(await stored(todo.id)).toEqual(before);
    });

    it('refuses a bad due date in an update (400)', async () => {
      const todo = await make.todo(alice);
      const before = await stored(todo.id);
      await request(server)
        .patch(`/api/todos/${todo.id}`)
        .set(alice.auth)
        .send({ due: '2030-02-30' })
        .expect(400);
      // null is a malformed date, not a missing one (it would otherwise become 1970-01-01).
      for (const method of ['patch', 'put'] as const) {
        await request(server)
          [method](`/api/todos/${todo.id}`)
          .set(alice.auth)
          .send({ title: 'Null due', due: null })
          .expect(400);
      }
      expect(await stored(todo.id)).toEqual(before);
    });

    it('lets the owner delete their todo', async () => {
      const todo = await make.todo(alice);
      await request(server).delete(`/api/todos/${todo.id}`).set(alice.auth).expect(204);
      expect(await stored(todo.id)).toBeNull();
      await request(server).get(`/api/todos/${todo.id}`).set(alice.auth).expect(404);
    });

    it("lets an admin update and delete someone else's todo", async () => {
      const todo = await make.todo(bob);
      const res = await request(server)
        .patch(`/api/todos/${todo.id}`)
        .set(admin.auth)
        .send({ description: 'Checked by admin' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ description: 'Checked by admin', owner: bob.id });
      await request(server).delete(`/api/todos/${todo.id}`).set(admin.auth).expect(204);
      expect(await stored(todo.id)).toBeNull();
    });
  });

  describe('PATCH /todos/:id/done (admin only)', () => {
    it('refuses the owner and other users with 403 and leaves done unchanged', async () => {
      const todo = await make.todo(alice);
      for (const who of [alice, bob]) {
        const res = await request(server)
          .patch(`/api/todos/${todo.id}/done`)
          .set(who.auth)
          .send({ done: true });
        expect(res.status).toBe(403);
      }
      await request(server).patch(`/api/todos/${todo.id}/done`).send({ done: true }).expect(401);
      expect(await stored(todo.id)).toMatchObject({ done: false });
    });

    it('does not tell a non-admin whether a todo exists', async () => {
      const missing = new Types.ObjectId().toString();
      await request(server)
        .patch(`/api/todos/${missing}/done`)
        .set(bob.auth)
        .send({ done: true })
        .expect(403);
    });

    it('lets an admin mark any todo done and undone', async () => {
      const todo = await make.todo(bob);
      const done = await request(server)
        .patch(`/api/todos/${todo.id}/done`)
        .set(admin.auth)
        .send({ done: true });
      expect(done.status).toBe(200);
      expect(done.body).toMatchObject({
        id: todo.id,
        done: true,
        owner: bob.id,
        title: todo.title,
      });
      expect(await stored(todo.id)).toMatchObject({ done: true });
      const own = await request(server).get(`/api/todos/${todo.id}`).set(bob.auth).expect(200);
      expect(own.body.done).toBe(true);
      await request(server)
        .patch(`/api/todos/${todo.id}/done`)
        .set(admin.auth)
        .send({ done: false })
        .expect(200);
      expect(await stored(todo.id)).toMatchObject({ done: false });
    });

    it.each([
      ['a string', { done: 'true' }],
      ['a number', { done: 1 }],
      ['nothing', {}],
      ['an extra field', { done: true, title: 'x' }],
    ])('refuses %s as done (400)', async (_why, body) => {
      const todo = await make.todo(alice);
      await request(server)
        .patch(`/api/todos/${todo.id}/done`)
        .set(admin.auth)
        .send(body)
        .expect(400);
      expect(await stored(todo.id)).toMatchObject({ done: false, title: todo.title });
    });

    it('answers 404 to an admin for a missing todo', async () => {
      const missing = new Types.ObjectId().toString();
      await request(server)
        .patch(`/api/todos/${missing}/done`)
        .set(admin.auth)
        .send({ done: true })
        .expect(404);
    });
  });

  it('documents every todo route in Swagger with a summary, security and its status codes', async () => {
    const doc = await request(server).get('/api/docs-json').expect(200);
    type Operation = {
      tags: string[];
      summary?: string;
      security?: unknown[];
      responses: Record<string, unknown>;
    };
    const paths = doc.body.paths as Record<string, Record<string, Operation>>;
    const expected: Record<string, string[]> = {
      'get /api/todos': ['200', '400', '401', '403'],
      'post /api/todos': ['201', '400', '401', '403'],
      'get /api/todos/{id}': ['200', '400', '401', '403', '404'],
      'put /api/todos/{id}': ['200', '400', '401', '403', '404'],
      'patch /api/todos/{id}': ['200', '400', '401', '403', '404'],
      'delete /api/todos/{id}': ['204', '400', '401', '403', '404'],
      'patch /api/todos/{id}/done': ['200', '400', '401', '403', '404'],
    };
    for (const [key, codes] of Object.entries(expected)) {
      const [method, path] = key.split(' ');
      const op = paths[path]?.[method];
      expect(op).toBeDefined();
      expect(op.tags).toContain('todos');
      expect(op.summary).toBeTruthy();
      // An access token, or an API key with the route's scope (docs/api-keys.md).
      expect(op.security).toEqual([{ 'api-key': [] }, { bearer: [] }]);
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining([...codes, '503']));
    }
  });
});

import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { Types } from 'mongoose';
import type { Test } from 'supertest';
import request from 'supertest';

import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';
import type { BookBody, Fixtures } from './support/fixtures.js';
import { fixtures } from './support/fixtures.js';
import { solidImage } from './support/images.js';
import type { TestUser } from './support/users.js';

/** Books over HTTP: create, read, list, update, delete, ownership and the user-delete cascade. */
describe('books', () => {
  let t: TestApp;
  let server: ReturnType<TestApp['app']['getHttpServer']>;
  let db: Connection;
  let alice: TestUser;
  let bob: TestUser;
  let admin: TestUser;
  let jpeg: Buffer;
  let make: Fixtures;

  beforeAll(async () => {
    t = await createTestApp({ label: 'books' });
    server = t.app.getHttpServer();
    db = t.app.get<Connection>(getConnectionToken());
    jpeg = await solidImage('jpeg', 300, 200);
    make = fixtures(t.app, {
      cover: { image: jpeg, filename: 'cover.jpg', contentType: 'image/jpeg' },
    });
    [alice, bob, admin] = await Promise.all([make.user(), make.user(), make.admin()]);
  });

  afterAll(() => t.close());

  const books = () => db.collection('books');
  const covers = () => db.collection('book_covers');
  const stored = (id: string) => books().findOne({ _id: new Types.ObjectId(id) });
  const storedCover = (id: string) => covers().findOne({ _id: new Types.ObjectId(id) });
  const snapshot = async (id: string) => ({ book: await stored(id), cover: await storedCover(id) });

  describe('create', () => {
    it('creates a book from a multipart form, owned by the caller', async () => {
      const res = await make.bookForm(alice, {
        title: '  The Left Hand of Darkness ',
        description: 'Winter.',
        category: 'science',
      });
      expect(res.status).toBe(201);
      expect(Object.keys(res.body).sort()).toEqual(
        [
          'category',
          'coverUrl',
          'createdAt',
          'description',
          'id',
          'owner',
          'title',
          'updatedAt',
        ].sort(),
      );
      expect(res.body).toMatchObject({
        title: 'The Left Hand of Darkness',
        description: 'Winter.',
        category: 'science',
        owner: alice.id,
        coverUrl: `/api/books/${res.body.id}/cover`,
      });
      const doc = await stored(res.body.id);
      expect(doc?.owner).toEqual(new Types.ObjectId(alice.id));
      expect(await storedCover(res.body.id)).not.toBeNull();
    });

    it("accepts the category with a space ('picture book')", async () => {
      const book = await make.book(alice, { category: 'picture book' });
      expect(book.category).toBe('picture book');
    });

    it('needs a login', async () => {
      const res = await make.bookForm(undefined, { title: 'Anonymous', category: 'poetry' });
      expect(res.status).toBe(401);
      expect(await books().countDocuments({ title: 'Anonymous' })).toBe(0);
    });

    it.each<[string, Record<string, string>]>([
      ['no title', { category: 'poetry' }],
      ['an empty title', { title: '   ', category: 'poetry' }],
      ['no category', { title: 'No category' }],
      ['an unknown category', { title: 'Bad category', category: 'cookbook' }],
      ['a title over 200 characters', { title: 'x'.repeat(201), category: 'poetry' }],
      ['a NUL character in the title', { title: 'Nul\u0000title', category: 'poetry' }],
      ['an unknown field', { title: 'Extra', category: 'poetry', isbn: '123' }],
    ])('refuses %s with 400 and stores nothing', async (_why, fields) => {
      const before = await books().countDocuments();
      const res = await make.bookForm(alice, fields);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(await books().countDocuments()).toBe(before);
      expect(await covers().countDocuments()).toBe(before);
    });

    it('refuses a title sent twice (an array) with 400', async () => {
      const res = await make
        .bookForm(alice, { category: 'poetry' })
        .field('title', 'One')
        .field('title', 'Two');
      expect(res.status).toBe(400);
      expect(await books().countDocuments({ title: { $in: ['One', 'Two'] } })).toBe(0);
    });

    it('never takes the owner from the body: an owner field is refused (400)', async () => {
      const res = await make.bookForm(alice, {
        title: 'Spoofed',
        category: 'poetry',
        owner: bob.id,
      });
      expect(res.status).toBe(400);
      expect(await books().countDocuments({ title: 'Spoofed' })).toBe(0);
      expect(await books().countDocuments({ owner: new Types.ObjectId(bob.id) })).toBe(0);
    });

    it('refuses a duplicate title for one owner (409) and allows it for another user', async () => {
      await make.book(alice, { title: 'Dune' });
      const again = await make.bookForm(alice, { title: 'Dune', category: 'science' });
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ statusCode: 409, error: 'Conflict' });
      expect(await books().countDocuments({ title: 'Dune' })).toBe(1);
      const bobs = await make.bookForm(bob, { title: 'Dune', category: 'science' });
      expect(bobs.status).toBe(201);
      expect(await books().countDocuments({ title: 'Dune' })).toBe(2);
      expect(await covers().countDocuments()).toBe(await books().countDocuments());
    });

    it('lets exactly one of concurrent creates with one title win, and leaves no stray cover', async () => {
      const results = await Promise.all(
        [1, 2, 3].map(() => make.bookForm(alice, { title: 'Race', category: 'thriller' })),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
      expect(await books().countDocuments({ title: 'Race' })).toBe(1);
      expect(await covers().countDocuments()).toBe(await books().countDocuments());
    });
  });

  describe('read and list', () => {
    let carol: TestUser;
    let carolBooks: BookBody[];

    beforeAll(async () => {
      carol = await make.user();
      carolBooks = [];
      for (const [title, category] of [
        ['Poems 1', 'poetry'],
        ['Poems 2', 'poetry'],
        ['Scary', 'horror'],
      ]) {
        carolBooks.push(await make.book(carol, { title, category }));
      }
      await make.book(bob, { title: "Bob's", category: 'poetry' });
    });

    it('reads one book as any signed-in user, not anonymously', async () => {
      const [book] = carolBooks;
      const res = await request(server).get(`/api/books/${book.id}`).set(bob.auth);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(book);
      await request(server).get(`/api/books/${book.id}`).expect(401);
    });

    it('answers 404 for a missing book and 400 for a bad id', async () => {
      await request(server)
        .get(`/api/books/${new Types.ObjectId().toString()}`)
        .set(bob.auth)
        .expect(404);
      await request(server).get('/api/books/not-an-id').set(bob.auth).expect(400);
    });

    it('lists only your own books, newest first, as { items, total, page, limit }', async () => {
      const res = await request(server).get('/api/books').set(carol.auth).expect(200);
      expect(res.body).toMatchObject({ total: 3, page: 1, limit: 20 });
      expect(res.body.items.map((b: BookBody) => b.title)).toEqual(['Scary', 'Poems 2', 'Poems 1']);
      expect(res.body.items.every((b: BookBody) => b.owner === carol.id)).toBe(true);
    });

    it('paginates', async () => {
      const res = await request(server).get('/api/books?page=2&limit=2').set(carol.auth);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ total: 3, page: 2, limit: 2 });
      expect(res.body.items.map((b: BookBody) => b.title)).toEqual(['Poems 1']);
      await request(server).get('/api/books?limit=101').set(carol.auth).expect(400);
      await request(server).get('/api/books?page=0').set(carol.auth).expect(400);
    });

    it('filters by category', async () => {
      const res = await request(server)
        .get('/api/books')
        .query({ category: 'poetry' })
        .set(carol.auth)
        .expect(200);
      expect(res.body.total).toBe(2);
      expect(res.body.items.map((b: BookBody) => b.title).sort()).toEqual(['Poems 1', 'Poems 2']);
      await request(server).get('/api/books?category=cookbook').set(carol.auth).expect(400);
    });

    it("lets an admin list another user's books with owner=<id>", async () => {
      const res = await request(server)
        .get('/api/books')
        .query({ owner: carol.id, category: 'horror' })
        .set(admin.auth)
        .expect(200);
      expect(res.body.total).toBe(1);
      expect(res.body.items[0]).toMatchObject({ title: 'Scary', owner: carol.id });
    });

    it("refuses a non-admin's owner=<someone else> with 403 (own id is fine)", async () => {
      const res = await request(server).get('/api/books').query({ owner: carol.id }).set(bob.auth);
      expect(res.status).toBe(403);
      expect(JSON.stringify(res.body)).not.toContain('Poems');
      const own = await request(server).get('/api/books').query({ owner: bob.id }).set(bob.auth);
      expect(own.status).toBe(200);
      expect(own.body.items.every((b: BookBody) => b.owner === bob.id)).toBe(true);
      await request(server).get('/api/books?owner=me').set(admin.auth).expect(400);
    });

    it('needs a login to list', async () => {
      await request(server).get('/api/books').expect(401);
    });
  });

  describe('update', () => {
    it('changes fields with a JSON PATCH', async () => {
      const book = await make.book(alice);
      const res = await request(server)
        .patch(`/api/books/${book.id}`)
        .set(alice.auth)
        .send({ description: 'Now with a description', category: 'romance' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: book.id,
        title: book.title,
        description: 'Now with a description',
        category: 'romance',
        owner: alice.id,
      });
      expect((await stored(book.id))?.category).toBe('romance');
    });

    it('changes fields with a multipart PATCH without a file', async () => {
      const book = await make.book(alice);
      const res = await request(server)
        .patch(`/api/books/${book.id}`)
        .set(alice.auth)
        .field('title', `${book.title} (2nd ed.)`);
      expect(res.status).toBe(200);
      expect((await stored(book.id))?.title).toBe(`${book.title} (2nd ed.)`);
    });

    it('replaces every text field with PUT (description reset when omitted)', async () => {
      const book = await make.book(alice, { description: 'Old description' });
      const res = await request(server)
        .put(`/api/books/${book.id}`)
        .set(alice.auth)
        .send({ title: `PUT ${book.id}`, category: 'politics' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        title: `PUT ${book.id}`,
        category: 'politics',
        description: '',
      });
      await request(server)
        .put(`/api/books/${book.id}`)
        .set(alice.auth)
        .send({ title: 'Missing category' })
        .expect(400);
    });

    it('refuses a rename to one of your own titles (409) and changes nothing', async () => {
      await make.book(alice, { title: 'Taken title' });
      const book = await make.book(alice);
      const before = await snapshot(book.id);
      const res = await request(server)
        .patch(`/api/books/${book.id}`)
        .set(alice.auth)
        .send({ title: 'Taken title', description: 'should not be applied' });
      expect(res.status).toBe(409);
      expect(await snapshot(book.id)).toEqual(before);
      // Another user's title is no conflict.
      await make.book(bob, { title: "Bob's own title" });
      await request(server)
        .patch(`/api/books/${book.id}`)
        .set(alice.auth)
        .send({ title: "Bob's own title" })
        .expect(200);
    });

    it('lets one of two concurrent renames to one title win', async () => {
      const [a, b] = [await make.book(alice), await make.book(alice)];
      const results = await Promise.all(
        [a, b].map((book) =>
          request(server)
            .patch(`/api/books/${book.id}`)
            .set(alice.auth)
            .send({ title: 'Rename race' }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
      expect(await books().countDocuments({ title: 'Rename race' })).toBe(1);
    });

    it.each<[string, (id: string) => Test]>([
      [
        'PATCH (JSON)',
        (id) => request(server).patch(`/api/books/${id}`).send({ title: 'Mine now' }),
      ],
      [
        'PATCH (multipart with a cover)',
        (id) =>
          request(server)
            .patch(`/api/books/${id}`)
            .field('title', 'Mine now')
            .attach('cover_image', jpeg, { filename: 'x.jpg', contentType: 'image/jpeg' }),
      ],
      [
        'PUT',
        (id) =>
          request(server).put(`/api/books/${id}`).send({ title: 'Mine now', category: 'horror' }),
      ],
      ['DELETE', (id) => request(server).delete(`/api/books/${id}`)],
    ])("refuses another user's %s with 403 and changes nothing", async (_name, send) => {
      const book = await make.book(alice);
      const before = await snapshot(book.id);
      const res = await send(book.id).set(bob.auth);
      expect(res.status).toBe(403);
      expect(await snapshot(book.id)).toEqual(before);
    });

    it('refuses an owner field in an update (400) and keeps the owner', async () => {
      const book = await make.book(alice);
      const before = await snapshot(book.id);
      const json = await request(server)
        .patch(`/api/books/${book.id}`)
        .set(alice.auth)
        .send({ owner: bob.id });
      expect(json.status).toBe(400);
      const form = await request(server)
        .patch(`/api/books/${book.id}`)
        .set(alice.auth)
        .field('owner', bob.id);
      expect(form.status).toBe(400);
      const put = await request(server)
        .put(`/api/books/${book.id}`)
        .set(alice.auth)
        .send({ title: 'x', category: 'poetry', owner: bob.id });
      expect(put.status).toBe(400);
      expect(await snapshot(book.id)).toEqual(before);
    });

    it('refuses operator objects in a JSON update (400)', async () => {
      const book = await make.book(alice);
      const before = await snapshot(book.id);
      const res = await request(server)
        .patch(`/api/books/${book.id}`)
        .set(alice.auth)
        .send({ title: { $ne: '' } });
      expect(res.status).toBe(400);
      expect(await snapshot(book.id)).toEqual(before);
    });

    it("lets an admin update anyone's book; the owner stays", async () => {
      const book = await make.book(alice);
      const res = await request(server)
        .patch(`/api/books/${book.id}`)
        .set(admin.auth)
        .send({ description: 'Moderated' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ description: 'Moderated', owner: alice.id });
    });

    it('answers 404 for a missing book and 400 for a bad id', async () => {
      await request(server)
        .patch(`/api/books/${new Types.ObjectId().toString()}`)
        .set(alice.auth)
        .send({ description: 'x' })
        .expect(404);
      await request(server)
        .patch('/api/books/nope')
        .set(alice.auth)
        .send({ description: 'x' })
        .expect(400);
    });
  });

  describe('delete', () => {
    it('deletes your own book and its cover', async () => {
      const book = await make.book(alice);
      await request(server).delete(`/api/books/${book.id}`).set(alice.auth).expect(204);
      expect(await snapshot(book.id)).toEqual({ book: null, cover: null });
      await request(server).get(`/api/books/${book.id}`).set(alice.auth).expect(404);
      await request(server).delete(`/api/books/${book.id}`).set(alice.auth).expect(404);
    });

    it("lets an admin delete anyone's book, cover included", async () => {
      const book = await make.book(bob);
      await request(server).delete(`/api/books/${book.id}`).set(admin.auth).expect(204);
      expect(await snapshot(book.id)).toEqual({ book: null, cover: null });
    });

    it('anonymous callers get 401 and nothing goes', async () => {
      const book = await make.book(alice);
      await request(server).delete(`/api/books/${book.id}`).expect(401);
      expect((await snapshot(book.id)).book).not.toBeNull();
    });
  });

  describe('OpenAPI', () => {
    interface Operation {
      summary?: string;
      tags?: string[];
      security?: object[];
      responses: Record<string, unknown>;
      requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
    }
    let doc: {
      paths: Record<string, Record<string, Operation>>;
      components: { schemas: Record<string, { properties: Record<string, object> }> };
    };

    beforeAll(async () => {
      doc = (await request(server).get('/api/docs-json').expect(200)).body;
    });

    const operations = () =>
      Object.entries(doc.paths)
        .filter(([path]) => path.startsWith('/api/books'))
        .flatMap(([path, methods]) =>
          Object.entries(methods).map(([method, op]) => ({ route: `${method} ${path}`, op })),
        );

    it('documents every books route with a summary, the tag, bearer security and 401/403', () => {
      const routes = operations();
      expect(routes).toHaveLength(7);
      for (const { route, op } of routes) {
        expect({ route, summary: typeof op.summary, tags: op.tags }).toEqual({
          route,
          summary: 'string',
          tags: ['books'],
        });
        expect({ route, security: op.security }).toEqual({
          route,
          security: [{ 'api-key': [] }, { bearer: [] }],
        });
        expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403']));
      }
    });

    it('documents the multipart create body with cover_image as a binary string', () => {
      const create = doc.paths['/api/books'].post;
      expect(Object.keys(create.responses)).toEqual(
        expect.arrayContaining(['201', '400', '409', '413']),
      );
      const ref = create.requestBody?.content['multipart/form-data'].schema.$ref ?? '';
      const schema = doc.components.schemas[ref.split('/').pop() ?? ''];
      expect(schema.properties.cover_image).toMatchObject({ type: 'string', format: 'binary' });
      expect(Object.keys(schema.properties)).toEqual(
        expect.arrayContaining(['title', 'description', 'category']),
      );
      for (const method of ['put', 'patch']) {
        const op = doc.paths['/api/books/{id}'][method];
        expect(Object.keys(op.requestBody?.content ?? {})).toEqual(
          expect.arrayContaining(['multipart/form-data', 'application/json']),
        );
        expect(Object.keys(op.responses)).toEqual(
          expect.arrayContaining(['200', '400', '404', '409', '413']),
        );
      }
    });

    it('documents the cover as image bytes with a 304', () => {
      const cover = doc.paths['/api/books/{id}/cover'].get;
      expect(Object.keys(cover.responses)).toEqual(
        expect.arrayContaining(['200', '304', '400', '404']),
      );
      expect(JSON.stringify(cover.responses['200'])).toContain('"format":"binary"');
    });
  });

  describe('deleting a user', () => {
    it("deletes the user's books and covers, and nobody else's", async () => {
      const doomed = await make.user();
      const theirs = [await make.book(doomed), await make.book(doomed), await make.book(doomed)];
      const survivor = await make.book(bob);
      const before = {
        books: await books().countDocuments(),
        covers: await covers().countDocuments(),
      };
      expect(await books().countDocuments({ owner: new Types.ObjectId(doomed.id) })).toBe(3);

      // Neither the user nor anyone but an admin can do this.
      await request(server).delete(`/api/users/${doomed.id}`).set(bob.auth).expect(403);
      expect(await books().countDocuments({ owner: new Types.ObjectId(doomed.id) })).toBe(3);

      await request(server).delete(`/api/users/${doomed.id}`).set(admin.auth).expect(204);
      expect(await books().countDocuments({ owner: new Types.ObjectId(doomed.id) })).toBe(0);
      for (const book of theirs)
        expect(await snapshot(book.id)).toEqual({ book: null, cover: null });
      expect(await books().countDocuments()).toBe(before.books - 3);
      expect(await covers().countDocuments()).toBe(before.covers - 3);
      expect((await snapshot(survivor.id)).cover).not.toBeNull();
      expect(await covers().countDocuments()).toBe(await books().countDocuments());
    });
  });
});

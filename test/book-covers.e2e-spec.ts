import { createHash } from 'node:crypto';

import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { Types } from 'mongoose';
import sharp from 'sharp';
import request from 'supertest';

import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';
import type { Fixtures } from './support/fixtures.js';
import { coverOf, fixtures } from './support/fixtures.js';
import type { ImageFormat } from './support/images.js';
import { blackPng, photoLikeJpeg, solidImage } from './support/images.js';
import type { TestUser } from './support/users.js';

/** The cover pipeline: formats by content, size limits, thumbnails, storage, caching. */
describe('book covers', () => {
  let t: TestApp;
  let server: ReturnType<TestApp['app']['getHttpServer']>;
  let db: Connection;
  let alice: TestUser;
  let bob: TestUser;
  let make: Fixtures;

  beforeAll(async () => {
    t = await createTestApp({ label: 'covers' });
    server = t.app.getHttpServer();
    db = t.app.get<Connection>(getConnectionToken());
    make = fixtures(t.app, { cover: coverOf(await solidImage('jpeg'), 'jpeg') });
    [alice, bob] = await Promise.all([make.user(), make.user()]);
  });

  afterAll(() => t.close());

  const books = () => db.collection('books');
  const covers = () => db.collection('book_covers');
  const counts = async () => ({
    books: await books().countDocuments(),
    covers: await covers().countDocuments(),
  });
  const storedCover = (id: string) => covers().findOne({ _id: new Types.ObjectId(id) });

  /** GET /cover with the body collected as bytes whatever the content type. */
  const fetchCover = (
    user: TestUser | undefined,
    id: string,
    headers: Record<string, string> = {},
  ) => {
    const req = request(server).get(`/api/books/${id}/cover`).set(headers);
    return (user ? req.set(user.auth) : req).buffer(true).parse((res, callback) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => callback(null, Buffer.concat(chunks)));
    });
  };

  describe('accepted images', () => {
    it.each<[ImageFormat]>([['jpeg'], ['png'], ['webp'], ['gif']])(
      'takes a %s cover and serves a WebP thumbnail that fits 150×150',
      async (format) => {
        const res = await make.coverUpload(
          alice,
          coverOf(await solidImage(format, 400, 300), format),
        );
        expect(res.status).toBe(201);
        expect(res.body.coverUrl).toBe(`/api/books/${res.body.id}/cover`);
        const cover = await fetchCover(alice, res.body.id);
        expect(cover.status).toBe(200);
        expect(cover.headers['content-type']).toBe('image/webp');
        const meta = await sharp(cover.body as Buffer).metadata();
        expect(meta.format).toBe('webp');
        // 400×300 shrunk to fit 150×150 keeps its 4:3 shape.
        expect(meta.width).toBe(150);
        expect(meta.height).toBeGreaterThanOrEqual(112);
        expect(meta.height).toBeLessThanOrEqual(113);
      },
    );

    it('never enlarges a small image', async () => {
      const { id } = await make.book(alice, {}, coverOf(await solidImage('jpeg', 40, 30), 'jpeg'));
      const meta = await sharp((await fetchCover(alice, id)).body as Buffer).metadata();
      expect([meta.width, meta.height]).toEqual([40, 30]);
    });

    it('shrinks a tall image to 150 high', async () => {
      const { id } = await make.book(
        alice,
        {},
        coverOf(await solidImage('jpeg', 300, 1200), 'jpeg'),
      );
      const meta = await sharp((await fetchCover(alice, id)).body as Buffer).metadata();
      expect([meta.width, meta.height]).toEqual([38, 150]);
    });

    it('applies the EXIF orientation and strips every bit of metadata', async () => {
      // 300×100 landscape pixels tagged "rotate 90° clockwise to display" (orientation 6).
      const tagged = await sharp({
        create: { width: 300, height: 100, channels: 3, background: '#446688' },
      })
        .jpeg()
        .withMetadata({ orientation: 6 })
        .withExif({ IFD0: { Copyright: 'secret-owner', Artist: 'GPS-and-name' } })
        .toBuffer();
      expect((await sharp(tagged).metadata()).exif).toBeDefined();
      const { id } = await make.book(alice, {}, coverOf(tagged, 'jpeg'));
      const bytes = (await fetchCover(alice, id)).body as Buffer;
      const meta = await sharp(bytes).metadata();
      expect([meta.width, meta.height]).toEqual([50, 150]);
      expect(meta.exif).toBeUndefined();
      expect(meta.icc).toBeUndefined();
      expect(meta.xmp).toBeUndefined();
      expect(meta.orientation).toBeUndefined();
      expect(bytes.includes('secret-owner')).toBe(false);
    });

    it('stores a photo-sized JPEG as a thumbnail of a few KB in book_covers', async () => {
      const photo = await photoLikeJpeg(1200, 800);
      const { id } = await make.book(alice, {}, coverOf(photo, 'jpeg'));
      const stored = await storedCover(id);
      expect(stored).toMatchObject({ contentType: 'image/webp', width: 150, height: 100 });
      const data = Buffer.from(stored?.data.buffer as Uint8Array);
      expect(stored?.size).toBe(data.length);
      expect(data.length).toBeLessThan(16 * 1024);
      expect(stored?.sha256).toBe(createHash('sha256').update(data).digest('hex'));
      // One document per cover, no GridFS files or chunks, nothing on the book itself.
      const collections = (await db.db!.listCollections().toArray()).map((c) => c.name);
      expect(collections).not.toContain('fs.files');
      expect(collections).not.toContain('fs.chunks');
      const book = await books().findOne({ _id: new Types.ObjectId(id) });
      expect(Object.keys(book ?? {})).not.toContain('data');
    });
  });

  describe('refused uploads (nothing is stored)', () => {
    const cases: [string, () => Promise<Buffer>, string][] = [
      ['a text file named x.png', () => Promise.resolve(Buffer.from('just some text\n')), 'x.png'],
      [
        'an SVG named x.png',
        () =>
          Promise.resolve(
            Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'),
          ),
        'x.png',
      ],
      [
        'a TIFF named x.png',
        () =>
          sharp({ create: { width: 10, height: 10, channels: 3, background: '#000' } })
            .tiff()
            .toBuffer(),
        'x.png',
      ],
      ['an empty file', () => Promise.resolve(Buffer.alloc(0)), 'x.png'],
      [
        'a PNG cut in half',
        async () => {
          const png = await photoLikeJpeg(200, 200).then((jpeg) => sharp(jpeg).png().toBuffer());
          return png.subarray(0, Math.floor(png.length / 2));
        },
        'x.png',
      ],
    ];

    it.each(cases)('refuses %s declared as image/png with 400', async (_name, build, filename) => {
      const before = await counts();
      const res = await make.coverUpload(alice, {
        image: await build(),
        filename,
        contentType: 'image/png',
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(res.body.message).toMatch(/cover_image/);
      expect(await counts()).toEqual(before);
    });

    it('refuses a book without a cover with 400', async () => {
      const before = await counts();
      const res = await request(server)
        .post('/api/books')
        .set(alice.auth)
        .field('title', 'No cover')
        .field('category', 'poetry');
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/cover_image is required/);
      expect(await counts()).toEqual(before);
      expect(await books().countDocuments({ title: 'No cover' })).toBe(0);
    });

    it('refuses a JSON create (a cover can only come as multipart) with 400', async () => {
      const before = await counts();
      const res = await request(server)
        .post('/api/books')
        .set(alice.auth)
        .send({ title: 'JSON book', category: 'poetry' });
      expect(res.status).toBe(400);
      expect(await counts()).toEqual(before);
    });

    it('refuses a file over 5 MB with 413', async () => {
      const before = await counts();
      const big = Buffer.concat([await solidImage('jpeg'), Buffer.alloc(5 * 1024 * 1024)]);
      const res = await make.coverUpload(alice, coverOf(big, 'jpeg'));
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
      expect(await counts()).toEqual(before);
    });

    it('refuses a 20000×20000 PNG bomb from its header (400)', async () => {
      const bomb = blackPng(20000, 20000);
      expect(bomb.length).toBeLessThan(256 * 1024); // ~200 KB that would decode to 1.2 GB of RGB
      expect((await sharp(bomb, { limitInputPixels: false }).metadata()).width).toBe(20000);
      const before = await counts();
      const res = await make.coverUpload(alice, coverOf(bomb, 'png'));
      expect(res.status).toBe(400);
      // The size comes from the header check, which runs before any pixel is decoded.
      expect(res.body.message).toMatch(/20000×20000.*megapixels/);
      expect(await counts()).toEqual(before);
    });

    it('refuses an image just over 16 megapixels (400)', async () => {
      const before = await counts();
      const res = await make.coverUpload(alice, coverOf(blackPng(4000, 4001), 'png'));
      expect(res.status).toBe(400);
      expect(await counts()).toEqual(before);
    });

    it('refuses forms beyond the field limits (too many fields, a field over 32 KB) with 400', async () => {
      const before = await counts();
      const jpeg = await solidImage('jpeg');
      let many = request(server).post('/api/books').set(alice.auth);
      for (let i = 0; i < 11; i++) many = many.field(`f${i}`, 'x');
      const tooMany = await many.attach('cover_image', jpeg, 'a.jpg');
      expect(tooMany.status).toBe(400);
      const long = await request(server)
        .post('/api/books')
        .set(alice.auth)
        .field('title', 'Long')
        .field('category', 'poetry')
        .field('description', 'x'.repeat(33 * 1024))
        .attach('cover_image', jpeg, 'a.jpg');
      expect(long.status).toBe(400);
      expect(long.body.message).toMatch(/too long/i);
      expect(await counts()).toEqual(before);
    });

    it('answers malformed multipart bodies with 400', async () => {
      const before = await counts();
      const garbage = await request(server)
        .post('/api/books')
        .set(alice.auth)
        .set('Content-Type', 'multipart/form-data; boundary=xyz')
        .send('--xyz\r\nContent-Disposition: form-data; name="title"\r\n\r\nCut');
      expect(garbage.status).toBe(400);
      const noBoundary = await request(server)
        .post('/api/books')
        .set(alice.auth)
        .set('Content-Type', 'multipart/form-data')
        .send('whatever');
      expect(noBoundary.status).toBe(400);
      expect(await counts()).toEqual(before);
    });

    it('leaves routes without an upload refusing multipart bodies with 400, not 5xx', async () => {
      const res = await request(server)
        .patch('/api/users/me')
        .set(alice.auth)
        .field('name', 'Multipart')
        .attach('file', await solidImage('jpeg'), 'a.jpg');
      expect(res.status).toBe(400);
      const me = await request(server).get('/api/users/me').set(alice.auth).expect(200);
      expect(me.body.name).not.toBe('Multipart');
    });

    it('refuses two files, or a file in another field, with 400', async () => {
      const before = await counts();
      const jpeg = await solidImage('jpeg');
      const file = { filename: 'a.jpg', contentType: 'image/jpeg' };
      const two = await make
        .coverUpload(alice, { image: jpeg, ...file })
        .attach('cover_image', jpeg, file);
      expect(two.status).toBe(400);
      const other = await request(server)
        .post('/api/books')
        .set(alice.auth)
        .field('title', 'Other field')
        .field('category', 'poetry')
        .attach('avatar', jpeg, file);
      expect(other.status).toBe(400);
      expect(await counts()).toEqual(before);
    });
  });

  describe('serving', () => {
    let id: string;
    let etag: string;

    beforeAll(async () => {
      ({ id } = await make.book(alice));
      const stored = await storedCover(id);
      etag = `"${stored?.sha256 as string}"`;
    });

    it('sends the bytes with Content-Type, ETag (stored SHA-256) and private caching', async () => {
      const res = await fetchCover(alice, id);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('image/webp');
      expect(res.headers.etag).toBe(etag);
      expect(res.headers['cache-control']).toBe('private, no-cache');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      const sha = createHash('sha256')
        .update(res.body as Buffer)
        .digest('hex');
      expect(`"${sha}"`).toBe(etag);
      expect(Number(res.headers['content-length'])).toBe((res.body as Buffer).length);
    });

    it.each([
      ['the exact ETag', (tag: string) => tag],
      ['a weak form of it', (tag: string) => `W/${tag}`],
      ['a list containing it', (tag: string) => `"other", ${tag}`],
      ['*', () => '*'],
    ])('answers 304 without a body to If-None-Match with %s', async (_name, header) => {
      const res = await fetchCover(alice, id, { 'If-None-Match': header(etag) });
      expect(res.status).toBe(304);
      expect((res.body as Buffer).length).toBe(0);
      expect(res.headers.etag).toBe(etag);
    });

    it('answers 200 to a stale If-None-Match', async () => {
      const res = await fetchCover(alice, id, { 'If-None-Match': '"0000"' });
      expect(res.status).toBe(200);
      expect((res.body as Buffer).length).toBeGreaterThan(0);
    });

    it('serves any signed-in user, never an anonymous caller', async () => {
      expect((await fetchCover(bob, id)).status).toBe(200);
      const anonymous = await fetchCover(undefined, id);
      expect(anonymous.status).toBe(401);
    });

    it('answers 404 for a missing book and 400 for a bad id', async () => {
      expect((await fetchCover(alice, new Types.ObjectId().toString())).status).toBe(404);
      expect((await fetchCover(alice, 'not-an-id')).status).toBe(400);
    });
  });

  describe('replacing and deleting', () => {
    const patchCover = (
      user: TestUser,
      id: string,
      image: Buffer,
      fields: Record<string, string> = {},
    ) => {
      let req = request(server).patch(`/api/books/${id}`).set(user.auth);
      for (const [name, value] of Object.entries(fields)) req = req.field(name, value);
      return req.attach('cover_image', image, { filename: 'new.png', contentType: 'image/png' });
    };

    it('replaces the cover on PATCH: new bytes and ETag, still one cover, old one gone', async () => {
      const { id } = await make.book(alice);
      const old = await fetchCover(alice, id);
      const before = await counts();
      const res = await patchCover(alice, id, await solidImage('png', 120, 240), {
        description: 'New look',
      });
      expect(res.status).toBe(200);
      expect(res.body.description).toBe('New look');
      const now = await fetchCover(alice, id);
      expect(now.headers.etag).not.toBe(old.headers.etag);
      expect(await sharp(now.body as Buffer).metadata()).toMatchObject({ width: 75, height: 150 });
      expect(await counts()).toEqual(before);
      const bookId = new Types.ObjectId(id);
      expect(await covers().countDocuments({ _id: bookId })).toBe(1);
      const oldSha = old.headers.etag.replaceAll('"', '');
      expect(await covers().countDocuments({ _id: bookId, sha256: oldSha })).toBe(0);
      // The old ETag no longer matches: a browser's cached copy is refreshed.
      expect((await fetchCover(alice, id, { 'If-None-Match': old.headers.etag })).status).toBe(200);
    });

    it('replaces the cover on PUT too', async () => {
      const { id } = await make.book(alice);
      const old = await storedCover(id);
      const res = await request(server)
        .put(`/api/books/${id}`)
        .set(alice.auth)
        .field('title', `Replaced ${id}`)
        .field('category', 'horror')
        .attach('cover_image', await solidImage('gif', 90, 90), {
          filename: 'c.gif',
          contentType: 'image/gif',
        });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ title: `Replaced ${id}`, category: 'horror' });
      const now = await storedCover(id);
      expect(now?.sha256).not.toBe(old?.sha256);
      expect([now?.width, now?.height]).toEqual([90, 90]);
    });

    it('keeps the cover when a PATCH brings no file', async () => {
      const { id } = await make.book(alice);
      const old = await storedCover(id);
      await request(server)
        .patch(`/api/books/${id}`)
        .set(alice.auth)
        .send({ title: `Renamed ${id}` })
        .expect(200);
      expect((await storedCover(id))?.sha256).toBe(old?.sha256);
    });

    it('leaves book and cover untouched when the new cover is not an image (400)', async () => {
      const { id } = await make.book(alice);
      const book = await books().findOne({ _id: new Types.ObjectId(id) });
      const cover = await storedCover(id);
      const res = await patchCover(alice, id, Buffer.from('not an image'), { title: 'Changed?' });
      expect(res.status).toBe(400);
      expect(await books().findOne({ _id: new Types.ObjectId(id) })).toEqual(book);
      expect((await storedCover(id))?.sha256).toBe(cover?.sha256);
    });

    it("refuses another user's new cover (403) and keeps the owner's", async () => {
      const { id } = await make.book(alice);
      const cover = await storedCover(id);
      const res = await patchCover(bob, id, await solidImage('png'));
      expect(res.status).toBe(403);
      expect((await storedCover(id))?.sha256).toBe(cover?.sha256);
    });

    it('deletes the cover with its book: no orphans', async () => {
      const { id } = await make.book(alice);
      const before = await counts();
      await request(server).delete(`/api/books/${id}`).set(alice.auth).expect(204);
      expect(await counts()).toEqual({ books: before.books - 1, covers: before.covers - 1 });
      expect(await storedCover(id)).toBeNull();
      expect((await fetchCover(alice, id)).status).toBe(404);
    });

    it('keeps exactly one cover per book', async () => {
      const bookIds = (
        await books()
          .find({}, { projection: { _id: 1 } })
          .toArray()
      ).map((b) => b._id.toString());
      const coverIds = (
        await covers()
          .find({}, { projection: { _id: 1 } })
          .toArray()
      ).map((c) => c._id.toString());
      expect(coverIds.sort()).toEqual(bookIds.sort());
    });
  });
});

import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import sharp from 'sharp';
import request from 'supertest';

import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';
import type { Fixtures } from './support/fixtures.js';
import { coverOf, fixtures } from './support/fixtures.js';
import type { TestUser } from './support/users.js';
import { STRONG_PASSWORD } from './support/users.js';

/**
 * A solid-colour 16-bit PNG, Adam7-interlaced: a few hundred KB on disk, but libvips must hold
 * every pixel (8 bytes each with alpha) to decode it, since an interlaced image cannot be streamed.
 */
function interlaced16BitPng(width: number, height: number, channels: 3 | 4): Promise<Buffer> {
  return sharp({
    create: { width, height, channels, background: { r: 10, g: 20, b: 30, alpha: 0.5 } },
    limitInputPixels: false,
  })
    .toColourspace('rgb16')
    .png({ progressive: true, compressionLevel: 9 })
    .toBuffer();
}

describe('cover decoding budget', () => {
  let t: TestApp;
  let alice: TestUser;
  let make: Fixtures;
  let db: Connection;

  beforeAll(async () => {
    t = await createTestApp({ label: 'cover_budget' });
    db = t.app.get<Connection>(getConnectionToken());
    make = fixtures(t.app);
    alice = await make.user();
  });

  afterAll(() => t.close());

  const counts = async () => ({
    books: await db.collection('books').countDocuments(),
    covers: await db.collection('book_covers').countDocuments(),
  });

  it('refuses a small 16-bit interlaced 5000×5000 PNG from its header (400, nothing stored)', async () => {
    const bomb = await interlaced16BitPng(5000, 5000, 4);
    expect(bomb.length).toBeLessThan(1024 * 1024); // 200 MB of pixels once decoded
    const meta = await sharp(bomb, { limitInputPixels: false }).metadata();
    expect(meta).toMatchObject({ width: 5000, height: 5000, depth: 'ushort', isProgressive: true });
    const before = await counts();
    const res = await make.coverUpload(alice, coverOf(bomb));
    expect(res.status).toBe(400);
    // Named from the header check: a failed decode would answer "could not be decoded".
    expect(res.body.message).toMatch(/5000×5000.*at most 16 megapixels/);
    expect(await counts()).toEqual(before);
  });

  it('refuses a 16-bit image under the pixel limit that would still need over 64 MB (400)', async () => {
    const heavy = await interlaced16BitPng(3000, 3000, 4); // 9 MP × 8 bytes = 72 MB
    const before = await counts();
    const res = await make.coverUpload(alice, coverOf(heavy));
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/3000×3000.*72 MB to decode.*at most 64 MB/);
    expect(await counts()).toEqual(before);
  });

  it('still takes an ordinary 8-bit cover', async () => {
    const res = await make.coverUpload(
      alice,
      coverOf(
        await sharp({
          create: { width: 800, height: 600, channels: 3, background: '#123456' },
        })
          .png()
          .toBuffer(),
      ),
    );
    expect(res.status).toBe(201);
  });
});

describe('cover jobs under load', () => {
  let t: TestApp;
  let alice: TestUser;
  let make: Fixtures;
  let bob: TestUser;

  beforeAll(async () => {
    t = await createTestApp({
      label: 'cover_load',
      env: { COVER_JOBS_CONCURRENCY: '2', COVER_JOBS_QUEUE: '2' },
    });
    make = fixtures(t.app);
    [alice, bob] = await Promise.all([make.user(), make.user()]);
  });

  afterAll(() => t.close());

  it('runs a few covers at once, answers the rest 503 with Retry-After, never 500; logins go on', async () => {
    // 9 MP of 8-bit RGB, interlaced: small to send, a real decode to do.
    const cover = await sharp({
      create: { width: 3000, height: 3000, channels: 3, background: '#654321' },
    })
      .png({ progressive: true })
      .toBuffer();
    const server = t.app.getHttpServer();
    const [uploads, login] = await Promise.all([
      Promise.all(Array.from({ length: 12 }, () => make.coverUpload(alice, coverOf(cover)))),
      request(server).post('/api/auth/login').send({ email: bob.email, password: STRONG_PASSWORD }),
    ]);
    expect(login.status).toBe(200);
    const statuses = uploads.map((res) => res.status);
    expect(statuses.every((status) => status === 201 || status === 503)).toBe(true);
    expect(statuses.filter((status) => status === 201).length).toBeGreaterThanOrEqual(1);
    const refused = uploads.filter((res) => res.status === 503);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const res of refused) {
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(res.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
    }
    // Nothing half-made: one book per 201.
    const books = await request(server).get('/api/books?limit=100').set(alice.auth).expect(200);
    expect(books.body.total).toBe(statuses.filter((status) => status === 201).length);
  });
});

describe('cover uploads per user', () => {
  let t: TestApp;
  let alice: TestUser;
  let make: Fixtures;
  let bob: TestUser;

  beforeAll(async () => {
    t = await createTestApp({ label: 'cover_rate', env: { COVER_UPLOADS_PER_MINUTE: '3' } });
    make = fixtures(t.app);
    [alice, bob] = await Promise.all([make.user(), make.user()]);
  });

  afterAll(() => t.close());

  it('answers 429 with Retry-After beyond the per-user limit, without touching others', async () => {
    const image = await sharp({
      create: { width: 60, height: 40, channels: 3, background: '#abcdef' },
    })
      .png()
      .toBuffer();
    const server = t.app.getHttpServer();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await make.coverUpload(alice, coverOf(image));
      expect(res.status).toBe(201);
      ids.push(res.body.id as string);
    }
    const refused = await make.coverUpload(alice, coverOf(image));
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // A new cover through PATCH counts too; a JSON change brings no image and does not.
    await request(server)
      .patch(`/api/books/${ids[0]}`)
      .set(alice.auth)
      .attach('cover_image', image, { filename: 'c.png', contentType: 'image/png' })
      .expect(429);
    await request(server)
      .patch(`/api/books/${ids[0]}`)
      .set(alice.auth)
      .send({ description: 'Still editable' })
      .expect(200);
    // Another user has their own allowance.
    expect((await make.coverUpload(bob, coverOf(image))).status).toBe(201);
  });
});

import type { Connection } from 'mongoose';
import mongoose from 'mongoose';

import { mongoSlidingWindowCounter } from '../src/common/rate-limit/mongo-rate-limit.store.js';
import { testDatabaseUri } from './support/app.js';

/**
 * The per-IP limit's counter on a real FerretDB: two counters on two connections are two API
 * instances sharing the database.
 */
describe('mongoSlidingWindowCounter (the per-IP limit across instances)', () => {
  const WINDOW = 60_000;
  let first: Connection;
  let second: Connection;
  let keyCounter = 0;
  /** A client of its own for each test. */
  const nextKey = () => `client-${keyCounter++}`;
  const slots = () => first.collection('rate_limit_slots');

  beforeAll(async () => {
    const uri = testDatabaseUri('rate_limit_store');
    first = await mongoose.createConnection(uri, { sanitizeFilter: true }).asPromise();
    second = await mongoose.createConnection(uri, { sanitizeFilter: true }).asPromise();
    await mongoSlidingWindowCounter(first)('warm-up', WINDOW, 1);
  });

  afterAll(async () => {
    await first.dropDatabase();
    await first.close();
    await second.close();
  });

  it('admits max requests, then refuses with the time until the oldest leaves the window', async () => {
    const count = mongoSlidingWindowCounter(first);
    const key = nextKey();
    const admitted = [];
    for (let i = 0; i < 3; i++) admitted.push(await count(key, WINDOW, 3));
    expect(admitted.map((r) => r.current)).toEqual([1, 2, 3]);
    const refused = await count(key, WINDOW, 3);
    expect(refused.current).toBe(4);
    expect(refused.ttl).toBeGreaterThan(WINDOW - 5_000);
    expect(refused.ttl).toBeLessThanOrEqual(WINDOW);
    // A refused request stores nothing.
    expect(await slots().countDocuments({ key })).toBe(3);
  });

  it('slides: a request is admitted once the one max requests before it has left the window', async () => {
    const count = mongoSlidingWindowCounter(first);
    const key = nextKey();
    for (let i = 0; i < 3; i++) await count(key, WINDOW, 3);
    // The oldest request left the window 1 s ago; the second one leaves it in 20 s.
    const now = Date.now();
    await slots().updateOne({ _id: `${key}|0` } as never, {
      $set: { at: new Date(now - WINDOW - 1_000) },
    });
    await slots().updateOne({ _id: `${key}|1` } as never, {
      $set: { at: new Date(now - WINDOW + 20_000) },
    });
    expect((await count(key, WINDOW, 3)).current).toBeLessThanOrEqual(3);
    const refused = await count(key, WINDOW, 3);
    expect(refused.current).toBe(4);
    expect(refused.ttl).toBeGreaterThan(15_000);
    expect(refused.ttl).toBeLessThanOrEqual(20_000);
  });

  it('treats a slot deleted as expired as out of the window', async () => {
    const count = mongoSlidingWindowCounter(first);
    const key = nextKey();
    for (let i = 0; i < 2; i++) await count(key, WINDOW, 2);
    expect((await count(key, WINDOW, 2)).current).toBe(3);
    await slots().deleteOne({ _id: `${key}|0` } as never);
    expect((await count(key, WINDOW, 2)).current).toBeLessThanOrEqual(2);
    expect((await count(key, WINDOW, 2)).current).toBe(3);
  });

  it('holds the limit over instances: one that did not know the client reads its numbers', async () => {
    const a = mongoSlidingWindowCounter(first);
    const b = mongoSlidingWindowCounter(second);
    const key = nextKey();
    for (let i = 0; i < 3; i++) await a(key, WINDOW, 5);
    const fromB = [];
    for (let i = 0; i < 3; i++) fromB.push((await b(key, WINDOW, 5)).current);
    expect(fromB).toEqual([4, 5, 6]);
    // A still believes the client is at 3: its next number is taken, so it walks on and refuses.
    expect((await a(key, WINDOW, 5)).current).toBe(6);
  });

  it('admits exactly max of a burst racing over two instances', async () => {
    const counters = [mongoSlidingWindowCounter(first), mongoSlidingWindowCounter(second)];
    const key = nextKey();
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) => counters[i % 2](key, WINDOW, 5)),
    );
    expect(results.filter((r) => r.current <= 5)).toHaveLength(5);
    expect(results.filter((r) => r.current > 5)).toHaveLength(19);
    const numbers = (await slots().find({ key }).toArray()).map((slot) => slot.n as number);
    expect(numbers.sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4]);
  });

  it('keeps clients apart', async () => {
    const count = mongoSlidingWindowCounter(first);
    const [one, other] = [nextKey(), nextKey()];
    await count(one, WINDOW, 1);
    expect((await count(one, WINDOW, 1)).current).toBe(2);
    expect((await count(other, WINDOW, 1)).current).toBe(1);
  });

  it('deletes expired slots', async () => {
    const key = nextKey();
    await slots().insertOne({
      _id: `${key}|0`,
      key,
      n: 0,
      at: new Date(Date.now() - 2 * WINDOW),
      expiresAt: new Date(Date.now() - WINDOW),
    } as never);
    // A fresh instance sweeps on its first request.
    await mongoSlidingWindowCounter(first)(nextKey(), WINDOW, 1);
    const deadline = Date.now() + 5_000;
    while ((await slots().countDocuments({ key })) > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await slots().countDocuments({ key })).toBe(0);
  });
});

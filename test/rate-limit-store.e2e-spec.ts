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
  /** A slot as another instance would have written it, `at` ms since the epoch. */
  const slot = (key: string, n: number, at: number, expiresAt = at + WINDOW) =>
    ({ _id: `${key}|${n}`, key, n, at: new Date(at), expiresAt: new Date(expiresAt) }) as never;

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
    // Another instance: this one remembers the refusal until the slot would have left.
    const other = mongoSlidingWindowCounter(second);
    expect((await other(key, WINDOW, 2)).current).toBeLessThanOrEqual(2);
    expect((await other(key, WINDOW, 2)).current).toBe(3);
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

  it('refuses every request under a limit below 1, and stores nothing', async () => {
    const key = nextKey();
    const refused = await mongoSlidingWindowCounter(first)(key, WINDOW, 0);
    expect(refused.current).toBeGreaterThan(0);
    expect(await slots().countDocuments({ key })).toBe(0);
  });

  it('keeps clients apart', async () => {
    const count = mongoSlidingWindowCounter(first);
    const [one, other] = [nextKey(), nextKey()];
    await count(one, WINDOW, 1);
    expect((await count(one, WINDOW, 1)).current).toBe(2);
    expect((await count(other, WINDOW, 1)).current).toBe(1);
  });

  it('continues a client numbered elsewhere after its highest number, not from 0', async () => {
    const key = nextKey();
    await slots().insertOne(slot(key, 50, Date.now()));
    expect((await mongoSlidingWindowCounter(first)(key, WINDOW, 100)).current).toBe(52);
    expect(await slots().countDocuments({ key })).toBe(2);
  });

  it('looks the client up after a run of numbers taken by other instances', async () => {
    const count = mongoSlidingWindowCounter(first);
    const key = nextKey();
    await count(key, WINDOW, 100);
    // Other instances took 1–8 and, further on, 30.
    const now = Date.now();
    await slots().insertMany(
      [...Array.from({ length: 8 }, (_, i) => i + 1), 30].map((n) => slot(key, n, now)),
    );
    expect((await count(key, WINDOW, 100)).current).toBe(32);
    expect(await slots().findOne({ _id: `${key}|31` } as never)).not.toBeNull();
  });

  it('refuses a refused client again without asking the database until a slot frees', async () => {
    const count = mongoSlidingWindowCounter(first);
    const key = nextKey();
    await count(key, WINDOW, 1);
    expect((await count(key, WINDOW, 1)).current).toBe(2);
    // Were the database asked, the slot's absence would admit the next request.
    await slots().deleteMany({ key });
    const again = await count(key, WINDOW, 1);
    expect(again.current).toBe(2);
    expect(again.ttl).toBeGreaterThan(WINDOW - 5_000);
  });

  /** A sweep by a fresh instance, awaited through a slot only that sweep deletes. */
  async function sweep(): Promise<void> {
    const marker = nextKey();
    await slots().insertOne(slot(marker, 0, Date.now() - 3 * WINDOW));
    await mongoSlidingWindowCounter(first)(nextKey(), WINDOW, 1);
    const deadline = Date.now() + 5_000;
    while ((await slots().countDocuments({ key: marker })) > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await slots().countDocuments({ key: marker })).toBe(0);
  }

  it('deletes slots a window after they expired, not before', async () => {
    const key = nextKey();
    await slots().insertOne(slot(key, 0, Date.now() - WINDOW - WINDOW / 2));
    await sweep();
    expect(await slots().countDocuments({ key })).toBe(1);
  });

  it('keeps one numbering when an instance still trusts a client its slots have left the window of', async () => {
    const a = mongoSlidingWindowCounter(first);
    const b = mongoSlidingWindowCounter(second);
    const key = nextKey();
    for (let i = 0; i < 3; i++) await a(key, WINDOW, 3);
    // The three left the window a second ago; A still remembers the client's next number.
    const now = Date.now();
    await slots().updateMany(
      { key },
      { $set: { at: new Date(now - WINDOW - 1_000), expiresAt: new Date(now - 1_000) } },
    );
    await sweep();
    // B, which never saw the client, continues its numbering: three more in all, then refusals.
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await [b, a][i % 2](key, WINDOW, 3));
    expect(results.filter((r) => r.current <= 3)).toHaveLength(3);
    expect(results[3].current).toBe(4);
    const numbers = (await slots().find({ key }).toArray()).map((slot) => slot.n as number);
    expect(numbers.sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

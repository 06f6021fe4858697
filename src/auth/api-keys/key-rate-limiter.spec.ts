import {
  ApiKeyRateLimitException,
  KeyRateLimiter,
  localRateLimitCounter,
} from './key-rate-limiter.js';

/** Requests admitted by `limiter` for `key` out of `count`, and the refusals. */
async function send(limiter: KeyRateLimiter, key: string, count: number) {
  let admitted = 0;
  const refusals: ApiKeyRateLimitException[] = [];
  for (let i = 0; i < count; i++) {
    try {
      await limiter.admit(key);
      admitted++;
    } catch (error) {
      if (!(error instanceof ApiKeyRateLimitException)) throw error;
      refusals.push(error);
    }
  }
  return { admitted, refusals };
}

describe('KeyRateLimiter', () => {
  it('admits exactly the limit per key and minute, then 429 with a Retry-After', async () => {
    const limiter = new KeyRateLimiter(localRateLimitCounter(), 600);
    const { admitted, refusals } = await send(limiter, 'k1', 700);
    expect(admitted).toBe(600);
    expect(refusals).toHaveLength(100);
    expect(refusals[0].retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(refusals[0].retryAfterSeconds).toBeLessThanOrEqual(60);
    // Another key has its own budget.
    expect((await send(limiter, 'k2', 10)).admitted).toBe(10);
  });

  it('holds the limit over instances sharing the counter: the limit in all, not per instance', async () => {
    const shared = localRateLimitCounter();
    const instances = [1, 2, 3].map(() => new KeyRateLimiter(shared, 600));
    let admitted = 0;
    for (let round = 0; round < 400; round++) {
      for (const instance of instances) admitted += (await send(instance, 'k', 1)).admitted;
    }
    expect(admitted).toBeLessThanOrEqual(600);
    // Shares are claimed, not lost, while every instance keeps sending.
    expect(admitted).toBe(600);
  });

  it('claims from the shared counter once per share, not per request', async () => {
    let calls = 0;
    const counting = localRateLimitCounter();
    const limiter = new KeyRateLimiter((...args) => {
      calls++;
      return counting(...args);
    }, 600);
    await send(limiter, 'k', 300);
    expect(calls).toBe(10);
  });

  it('admits exactly a limit that is not a multiple of the share (610: 20 shares of 30, then 10)', async () => {
    const limiter = new KeyRateLimiter(localRateLimitCounter(), 610);
    const { admitted, refusals } = await send(limiter, 'k', 700);
    expect(admitted).toBe(610);
    expect(refusals).toHaveLength(90);
  });

  it('holds such a limit exactly over instances sharing the counter', async () => {
    const shared = localRateLimitCounter();
    const instances = [1, 2, 3].map(() => new KeyRateLimiter(shared, 610));
    let admitted = 0;
    for (let round = 0; round < 400; round++) {
      for (const instance of instances) admitted += (await send(instance, 'k', 1)).admitted;
    }
    expect(admitted).toBe(610);
  });

  it("spends a share only while its claim counts in the shared counter's window", async () => {
    let ttl = 60_000;
    const counting = localRateLimitCounter();
    let calls = 0;
    const limiter = new KeyRateLimiter(async (...args) => {
      calls++;
      return { ...(await counting(...args)), ttl };
    }, 600);
    // A counter whose window ends at once: the share claimed now is not spent later.
    ttl = 0;
    await send(limiter, 'k', 3);
    expect(calls).toBe(3);
    // A minute-long window: one claim serves the share (30).
    ttl = 60_000;
    await send(limiter, 'k2', 30);
    expect(calls).toBe(4);
  });

  it('is exact for small limits', async () => {
    const limiter = new KeyRateLimiter(localRateLimitCounter(), 3);
    expect((await send(limiter, 'k', 5)).admitted).toBe(3);
  });
});

import { jest } from '@jest/globals';

import { ClientGoneException, HashingQueue, HashingQueueFullException } from './hashing-queue.js';

/** A job the test finishes by hand; `started` tells whether the queue ran it. */
function manualJob() {
  let finish: () => void = () => undefined;
  const job = { started: false, finish: () => finish() };
  const run = () => {
    job.started = true;
    return new Promise<string>((resolve) => (finish = () => resolve('done')));
  };
  return { job, run };
}

/** Lets queued promise callbacks run (the queue hands a slot on in a `finally`). */
const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('HashingQueue', () => {
  afterEach(() => jest.useRealTimers());

  it('runs at most `concurrency` jobs at once and starts the others in order', async () => {
    const queue = new HashingQueue({ concurrency: 2, timeoutMs: 10_000, initialJobMs: 10 });
    const jobs = Array.from({ length: 4 }, manualJob);
    const results = jobs.map(({ run }) => queue.run(run));
    await settle();
    expect(jobs.map(({ job }) => job.started)).toEqual([true, true, false, false]);
    jobs[1].job.finish();
    await settle();
    expect(jobs.map(({ job }) => job.started)).toEqual([true, true, true, false]);
    jobs[0].job.finish();
    await settle();
    expect(jobs[3].job.started).toBe(true);
    jobs[2].job.finish();
    jobs[3].job.finish();
    await expect(Promise.all(results)).resolves.toEqual(['done', 'done', 'done', 'done']);
    expect(queue.stats).toMatchObject({ running: 0, waiting: 0 });
  });

  it('hands a freed slot to the first waiter: a job arriving at that moment waits its turn', async () => {
    const queue = new HashingQueue({ concurrency: 1, timeoutMs: 10_000, initialJobMs: 10 });
    const [first, waiter, newcomer] = Array.from({ length: 3 }, manualJob);
    const results = [queue.run(first.run), queue.run(waiter.run)];
    await settle();
    first.job.finish();
    // Arrives once the first job's answer is out, before the waiter's start has run.
    await Promise.resolve();
    results.push(queue.run(newcomer.run));
    await settle();
    expect([waiter.job.started, newcomer.job.started]).toEqual([true, false]);
    expect(queue.stats).toMatchObject({ running: 1, waiting: 1 });
    waiter.job.finish();
    await settle();
    expect(newcomer.job.started).toBe(true);
    newcomer.job.finish();
    await expect(Promise.all(results)).resolves.toEqual(['done', 'done', 'done']);
    expect(queue.stats).toMatchObject({ running: 0, waiting: 0 });
  });

  it('refuses at once a job that would wait longer than the timeout, and never runs it', async () => {
    const refusals: unknown[] = [];
    const queue = new HashingQueue({
      concurrency: 1,
      timeoutMs: 250,
      initialJobMs: 100,
      onRefused: (refusal) => refusals.push(refusal),
    });
    const running = manualJob();
    const first = queue.run(running.run);
    // Expected waits: 100 ms (one running job ahead), then 200 ms, then 300 ms > 250 ms.
    const second = manualJob();
    const third = manualJob();
    const secondDone = queue.run(second.run);
    const thirdDone = queue.run(third.run);
    expect(queue.stats.waiting).toBe(2);
    const fourth = manualJob();
    const refused = queue.run(fourth.run);
    await expect(refused).rejects.toBeInstanceOf(HashingQueueFullException);
    await refused.catch((error: HashingQueueFullException) => {
      expect(error.getStatus()).toBe(503);
      expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    });
    expect(() => queue.assertRoom()).toThrow(HashingQueueFullException);
    expect(fourth.job.started).toBe(false);
    expect(refusals).toEqual([
      { expectedWaitMs: 300, waiting: 2, timedOut: false },
      { expectedWaitMs: 300, waiting: 2, timedOut: false },
    ]);
    running.job.finish();
    await settle();
    second.job.finish();
    await settle();
    third.job.finish();
    await expect(Promise.all([first, secondDone, thirdDone])).resolves.toHaveLength(3);
  });

  it('refuses a waiting job when the timeout passes before its turn (the estimate was too kind)', async () => {
    jest.useFakeTimers();
    const refusals: { timedOut: boolean }[] = [];
    const queue = new HashingQueue({
      concurrency: 1,
      timeoutMs: 100,
      initialJobMs: 10,
      onRefused: (refusal) => refusals.push(refusal),
    });
    const stuck = manualJob();
    const first = queue.run(stuck.run);
    const waiting = manualJob();
    const late = queue.run(waiting.run);
    const outcome = late.catch((error: unknown) => error);
    jest.advanceTimersByTime(99);
    await settle();
    expect(queue.stats.waiting).toBe(1);
    jest.advanceTimersByTime(1);
    expect(await outcome).toBeInstanceOf(HashingQueueFullException);
    expect(waiting.job.started).toBe(false);
    expect(queue.stats.waiting).toBe(0);
    expect(refusals).toEqual([expect.objectContaining({ timedOut: true })]);
    stuck.job.finish();
    await expect(first).resolves.toBe('done');
  });

  it('estimates from the durations it measured', async () => {
    jest.useFakeTimers();
    const queue = new HashingQueue({ concurrency: 1, timeoutMs: 10_000, initialJobMs: 100 });
    const slow = manualJob();
    const done = queue.run(slow.run);
    jest.advanceTimersByTime(600);
    slow.job.finish();
    await done;
    // The newest duration (600 ms) moves the average a fifth of the way from 100 ms.
    expect(queue.stats.averageJobMs).toBeCloseTo(200, 5);
    // With one job running, the next one is expected to wait about one average job.
    const next = manualJob();
    const running = queue.run(next.run);
    expect(queue.expectedWaitMs()).toBeCloseTo(200, 5);
    next.job.finish();
    await running;
  });

  it('runs start-up work in turn however long the queue, never refusing it', async () => {
    jest.useFakeTimers();
    const queue = new HashingQueue({ concurrency: 1, timeoutMs: 100, initialJobMs: 1_000 });
    const [busy, startup] = [manualJob(), manualJob()];
    const first = queue.run(busy.run);
    const second = queue.runInTurn(startup.run);
    expect(() => queue.assertRoom()).toThrow(HashingQueueFullException);
    jest.advanceTimersByTime(10_000);
    busy.job.finish();
    await settle();
    expect(startup.job.started).toBe(true);
    startup.job.finish();
    await expect(Promise.all([first, second])).resolves.toEqual(['done', 'done']);
  });

  it('refuses a concurrency below one', () => {
    expect(() => new HashingQueue({ concurrency: 0, timeoutMs: 1, initialJobMs: 1 })).toThrow();
  });
});

describe('HashingQueue reservations', () => {
  it('counts a reservation in the estimate, so a storm is refused at the door', async () => {
    const queue = new HashingQueue({ concurrency: 1, timeoutMs: 250, initialJobMs: 100 });
    // Expected waits: 0 (nothing ahead), then 100, 200 ms; the fourth would wait 300 ms.
    const places = [queue.reserve(), queue.reserve(), queue.reserve()];
    expect(queue.stats).toMatchObject({ reserved: 3, running: 0, waiting: 0 });
    expect(() => queue.reserve()).toThrow(HashingQueueFullException);
    // A released place frees room; running a reservation does not check the room again.
    places[2].release();
    places[2].release();
    expect(queue.stats.reserved).toBe(2);
    const jobs = [manualJob(), manualJob()];
    const done = places.slice(0, 2).map((place, i) => place.run(jobs[i].run));
    await settle();
    expect(queue.stats).toMatchObject({ reserved: 0, running: 1, waiting: 1 });
    jobs[0].job.finish();
    await settle();
    jobs[1].job.finish();
    await expect(Promise.all(done)).resolves.toEqual(['done', 'done']);
  });

  it('counts a reserved job’s wait from the reservation', async () => {
    jest.useFakeTimers();
    const queue = new HashingQueue({ concurrency: 1, timeoutMs: 100, initialJobMs: 1 });
    const stuck = manualJob();
    const first = queue.run(stuck.run);
    const place = queue.reserve();
    jest.advanceTimersByTime(60);
    const late = manualJob();
    const outcome = place.run(late.run).catch((error: unknown) => error);
    jest.advanceTimersByTime(40);
    expect(await outcome).toBeInstanceOf(HashingQueueFullException);
    expect(late.job.started).toBe(false);
    stuck.job.finish();
    await first;
  });
});

describe('HashingQueue and clients that leave', () => {
  it('drops a waiting job whose client has gone: it never runs and no longer counts', async () => {
    const queue = new HashingQueue({ concurrency: 1, timeoutMs: 10_000, initialJobMs: 100 });
    const [busy, abandoned, next] = [manualJob(), manualJob(), manualJob()];
    const first = queue.run(busy.run);
    const client = new AbortController();
    const dropped = queue.run(abandoned.run, client.signal).catch((error: unknown) => error);
    const third = queue.run(next.run);
    expect(queue.expectedWaitMs()).toBeCloseTo(300, 5);
    client.abort();
    expect(await dropped).toBeInstanceOf(ClientGoneException);
    expect(queue.stats.waiting).toBe(1);
    expect(queue.expectedWaitMs()).toBeCloseTo(200, 5);
    busy.job.finish();
    await settle();
    // The slot went to the job behind the dropped one.
    expect([abandoned.job.started, next.job.started]).toEqual([false, true]);
    next.job.finish();
    await expect(Promise.all([first, third])).resolves.toEqual(['done', 'done']);
    expect(queue.stats).toMatchObject({ running: 0, waiting: 0 });
  });

  it('gives a reserved place back when the client goes, and never runs its job', async () => {
    const queue = new HashingQueue({ concurrency: 1, timeoutMs: 10_000, initialJobMs: 100 });
    const client = new AbortController();
    const place = queue.reserve(client.signal);
    expect(queue.stats.reserved).toBe(1);
    client.abort();
    expect(queue.stats.reserved).toBe(0);
    const late = manualJob();
    await expect(place.run(late.run)).rejects.toBeInstanceOf(ClientGoneException);
    expect(late.job.started).toBe(false);
    expect(queue.stats).toMatchObject({ running: 0, waiting: 0, reserved: 0 });
  });

  it('runs a job whose client is still there, and ignores a signal that aborts after it started', async () => {
    const queue = new HashingQueue({ concurrency: 1, timeoutMs: 10_000, initialJobMs: 100 });
    const client = new AbortController();
    const job = manualJob();
    const done = queue.run(job.run, client.signal);
    await settle();
    expect(job.job.started).toBe(true);
    client.abort();
    job.job.finish();
    await expect(done).resolves.toBe('done');
    expect(queue.stats).toMatchObject({ running: 0, waiting: 0 });
  });
});

import type { Env } from '../../config/env.js';
import {
  CoverJobsBusyException,
  CoverLimitsService,
  CoverUploadsThrottledException,
} from './cover-limits.service.js';

const limits = (concurrency: number, queue: number, perMinute = 10) =>
  new CoverLimitsService({
    COVER_JOBS_CONCURRENCY: concurrency,
    COVER_JOBS_QUEUE: queue,
    COVER_UPLOADS_PER_MINUTE: perMinute,
  } as Env);

/** A job that runs until `finish()` is called, recording how many run at once. */
function gate(state: { running: number; peak: number }) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const job = async () => {
    state.running += 1;
    state.peak = Math.max(state.peak, state.running);
    await done;
    state.running -= 1;
    return 'ok';
  };
  return { job, finish };
}

describe('CoverLimitsService.run', () => {
  it('runs at most `concurrency` jobs, queues `queue` more and refuses the rest', async () => {
    const service = limits(2, 1);
    const state = { running: 0, peak: 0 };
    const gates = [gate(state), gate(state), gate(state)];
    const results = gates.map(({ job }) => service.run(job));
    await expect(service.run(gate(state).job)).rejects.toBeInstanceOf(CoverJobsBusyException);
    await Promise.resolve();
    expect(state.running).toBe(2);
    gates.forEach(({ finish }) => finish());
    await expect(Promise.all(results)).resolves.toEqual(['ok', 'ok', 'ok']);
    expect(state.peak).toBe(2);
    // Every slot came back: two new jobs run together again.
    const again = [gate(state), gate(state)];
    const more = again.map(({ job }) => service.run(job));
    again.forEach(({ finish }) => finish());
    await expect(Promise.all(more)).resolves.toEqual(['ok', 'ok']);
  });

  it('frees the slot when a job fails', async () => {
    const service = limits(1, 0);
    await expect(service.run(() => Promise.reject(new Error('bad image')))).rejects.toThrow(
      'bad image',
    );
    await expect(service.run(() => Promise.resolve(1))).resolves.toBe(1);
  });

  it('sends a Retry-After with the 503', () => {
    expect(new CoverJobsBusyException().retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(new CoverJobsBusyException().getStatus()).toBe(503);
  });
});

describe('CoverLimitsService.countUpload', () => {
  it('allows `perMinute` uploads per user per window, then 429 until the window ends', () => {
    const service = limits(1, 0, 2);
    const t0 = 1_000_000;
    service.countUpload('a', t0);
    service.countUpload('a', t0 + 1000);
    service.countUpload('b', t0 + 1000);
    let refused: unknown;
    try {
      service.countUpload('a', t0 + 20_000);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(CoverUploadsThrottledException);
    expect((refused as CoverUploadsThrottledException).getStatus()).toBe(429);
    expect((refused as CoverUploadsThrottledException).retryAfterSeconds).toBe(40);
    expect(() => service.countUpload('a', t0 + 60_000)).not.toThrow();
  });
});

import { HttpException, HttpStatus, Injectable, ServiceUnavailableException } from '@nestjs/common';

import { Env } from '../../config/env.js';
import { configureSharpForCovers } from './cover-thumbnail.js';

/** Seconds a client is told to wait when every cover slot and queue place is taken. */
export const COVER_BUSY_RETRY_SECONDS = 2;
const UPLOAD_WINDOW_MS = 60_000;
/** Above this many tracked users, expired windows are dropped so the map cannot grow forever. */
const SWEEP_ABOVE = 10_000;

/** An HTTP error with the Retry-After (seconds) that CoverLimitsInterceptor sends with it. */
export interface RetryAfter {
  retryAfterSeconds: number;
}

export class CoverJobsBusyException extends ServiceUnavailableException implements RetryAfter {
  readonly retryAfterSeconds = COVER_BUSY_RETRY_SECONDS;

  constructor() {
    super('Too many covers are being processed; retry shortly');
  }
}

export class CoverUploadsThrottledException extends HttpException implements RetryAfter {
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many cover uploads; retry in ${retryAfterSeconds} s`, HttpStatus.TOO_MANY_REQUESTS);
  }
}

/**
 * Keeps cover processing from taking the machine:
 * - at most COVER_JOBS_CONCURRENCY images are decoded at once, COVER_JOBS_QUEUE more wait, and any
 *   further upload is a 503 at once. Each job holds a libuv thread (bcrypt needs those too) and up
 *   to MAX_DECODED_BYTES of memory, so this bounds both.
 * - each user may send COVER_UPLOADS_PER_MINUTE uploads a minute (429 beyond).
 * Both are counted in this process, not in MongoDB: they protect this instance's CPU and memory,
 * so with N instances a user may upload N times the limit in all, which is what the instances can
 * take. Hand-written rather than p-limit: its current major (7) would replace the p-limit 3 that
 * jest resolves from the shared node_modules, and the queue bound and fail-fast need code anyway.
 */
@Injectable()
export class CoverLimitsService {
  private readonly concurrency: number;
  private readonly queueSize: number;
  private readonly uploadsPerMinute: number;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(env: Env) {
    this.concurrency = env.COVER_JOBS_CONCURRENCY;
    this.queueSize = env.COVER_JOBS_QUEUE;
    this.uploadsPerMinute = env.COVER_UPLOADS_PER_MINUTE;
    configureSharpForCovers();
  }

  /** Runs `job` in a free slot, waits for one in the queue, or throws CoverJobsBusyException. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.active < this.concurrency) {
      this.active += 1;
    } else {
      if (this.waiting.length >= this.queueSize) throw new CoverJobsBusyException();
      // The finishing job hands its slot straight to us: `active` does not change.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }

  /** Counts one upload for `userId`, or throws CoverUploadsThrottledException (fixed window). */
  countUpload(userId: string, now = Date.now()): void {
    let window = this.windows.get(userId);
    if (!window || now - window.start >= UPLOAD_WINDOW_MS) {
      if (this.windows.size >= SWEEP_ABOVE) this.sweep(now);
      window = { start: now, count: 0 };
      this.windows.set(userId, window);
    }
    if (window.count >= this.uploadsPerMinute) {
      throw new CoverUploadsThrottledException(
        Math.max(1, Math.ceil((window.start + UPLOAD_WINDOW_MS - now) / 1000)),
      );
    }
    window.count += 1;
  }

  private sweep(now: number): void {
    for (const [userId, window] of this.windows) {
      if (now - window.start >= UPLOAD_WINDOW_MS) this.windows.delete(userId);
    }
  }
}

import { HttpException, HttpStatus } from '@nestjs/common';

/** 503 with the seconds after which the queue is expected to have room again. */
export class HashingQueueFullException extends HttpException {
  constructor(readonly retryAfterSeconds: number) {
    super(
      {
        statusCode: HttpStatus.SERVICE_UNAVAILABLE,
        error: 'Service Unavailable',
        message: 'Too many password checks in progress; try again shortly (see Retry-After)',
      },
      HttpStatus.SERVICE_UNAVAILABLE,
    );
  }
}

/**
 * The client closed its connection while its password check waited: the check never runs (no
 * one would read its answer). 499 is nginx's "client closed request": the request log shows it,
 * no client ever receives it.
 */
export class ClientGoneException extends HttpException {
  constructor() {
    super('The client closed the connection before its password check started', 499);
  }
}

export interface HashingQueueOptions {
  /** Jobs run at once: more only share the same cores (and libuv's threads) more slowly. */
  concurrency: number;
  /** A job that would wait longer than this is refused at once; none waits longer. */
  timeoutMs: number;
  /** What one job is expected to take until the first ones have been timed. */
  initialJobMs: number;
  /** Told about every refusal (for the log line). */
  onRefused?: (refusal: { expectedWaitMs: number; waiting: number; timedOut: boolean }) => void;
}

interface Waiter {
  start(): void;
  /** Refuses the waiter when the timeout passes first (none for a job run in turn). */
  timer?: NodeJS.Timeout;
}

/**
 * A place in the queue taken before a request does anything else: the job it runs later is
 * already counted (by the estimate) and is not refused again. Released if the request ends
 * without running it.
 */
export interface HashingReservation {
  run<T>(job: () => Promise<T>): Promise<T>;
  /** Gives the place back when no job will run (idempotent; a no-op once `run` was called). */
  release(): void;
}

/** Weight of the newest job in the running average of job durations. */
const SMOOTHING = 0.2;

/**
 * A bounded first-in first-out queue for password hashing (bcrypt): at most `concurrency` jobs
 * run, the rest wait in order. A job is refused at once (HashingQueueFullException) when the
 * wait it would have, estimated from the jobs ahead of it (running, waiting, and reserved by
 * requests still on their way to it) and the average job duration, is over `timeoutMs`; a job
 * still waiting when `timeoutMs` has passed (the estimate was too kind) is refused then. So no
 * caller waits past the timeout, and a request the hashing capacity cannot serve in time is
 * turned away before it spends anything else (`reserve` at its start): under a login storm the
 * refusals stay cheap and the cores keep hashing. A job whose client closed its connection while
 * it waited (a client that timed out and gave up) leaves the queue at once and never runs: the
 * cores hash only for clients still there to read the answer.
 */
export class HashingQueue {
  private running = 0;
  private reserved = 0;
  private readonly waiting: Waiter[] = [];
  private averageJobMs: number;

  constructor(private readonly options: HashingQueueOptions) {
    if (!(options.concurrency >= 1)) throw new Error('concurrency must be at least 1');
    this.averageJobMs = options.initialJobMs;
  }

  /** How long a job submitted now would wait before it starts, in milliseconds (estimated). */
  expectedWaitMs(): number {
    const ahead = this.running + this.waiting.length + this.reserved;
    if (ahead < this.options.concurrency) return 0;
    // It starts once all but `concurrency - 1` of the jobs ahead have finished; jobs finish at
    // about `concurrency` per average duration.
    return ((ahead - this.options.concurrency + 1) / this.options.concurrency) * this.averageJobMs;
  }

  /** Refuses now when a job submitted now could not start within the timeout. */
  assertRoom(): void {
    const expected = this.expectedWaitMs();
    if (expected > this.options.timeoutMs) throw this.refuse(expected, false);
  }

  /**
   * Takes a place for a job the caller will run soon (or refuses now, like `run`). `signal`: the
   * client's connection; once it aborts, the place is given back and the job never runs.
   */
  reserve(signal?: AbortSignal): HashingReservation {
    this.assertRoom();
    this.reserved++;
    const since = performance.now();
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      this.reserved--;
      signal?.removeEventListener('abort', release);
    };
    signal?.addEventListener('abort', release, { once: true });
    return {
      run: (job) => {
        release();
        return this.enqueue(job, since, true, signal);
      },
      release,
    };
  }

  /**
   * Runs the job in turn, or refuses it (503) when it would wait past the timeout. `signal`: the
   * client's connection; a job whose client has gone leaves the queue and never runs.
   */
  async run<T>(job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    this.assertRoom();
    return this.enqueue(job, performance.now(), true, signal);
  }

  /**
   * Runs a job in turn however long it waits: start-up work no client is waiting for (the
   * configured admin's password), which a busy queue must not refuse.
   */
  runInTurn<T>(job: () => Promise<T>): Promise<T> {
    return this.enqueue(job, performance.now(), false);
  }

  get stats(): { running: number; waiting: number; reserved: number; averageJobMs: number } {
    return {
      running: this.running,
      waiting: this.waiting.length,
      reserved: this.reserved,
      averageJobMs: this.averageJobMs,
    };
  }

  /** `since`: when the caller took its place (a reservation's wait counts from then). */
  private async enqueue<T>(
    job: () => Promise<T>,
    since = performance.now(),
    bounded = true,
    signal?: AbortSignal,
  ): Promise<T> {
    if (signal?.aborted) throw new ClientGoneException();
    // A finished job hands its slot straight to the first waiter (`running` stays counted), so
    // a job arriving between the hand-over and the waiter's start cannot take the slot first.
    if (this.running >= this.options.concurrency) await this.wait(since, bounded, signal);
    else this.running++;
    const started = performance.now();
    try {
      return await job();
    } finally {
      const took = performance.now() - started;
      this.averageJobMs += SMOOTHING * (took - this.averageJobMs);
      const next = this.waiting.shift();
      if (next) next.start();
      else this.running--;
    }
  }

  private wait(since: number, bounded: boolean, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const leave = (error: () => HttpException) => {
        const index = this.waiting.indexOf(waiter);
        if (index === -1) return;
        this.waiting.splice(index, 1);
        clearTimeout(waiter.timer);
        signal?.removeEventListener('abort', gone);
        reject(error());
      };
      const gone = () => leave(() => new ClientGoneException());
      const waiter: Waiter = {
        start: () => {
          clearTimeout(waiter.timer);
          signal?.removeEventListener('abort', gone);
          resolve();
        },
      };
      if (bounded) {
        waiter.timer = setTimeout(
          () => leave(() => this.refuse(this.options.timeoutMs, true)),
          Math.max(0, since + this.options.timeoutMs - performance.now()),
        );
        waiter.timer.unref();
      }
      signal?.addEventListener('abort', gone, { once: true });
      this.waiting.push(waiter);
    });
  }

  private refuse(expectedWaitMs: number, timedOut: boolean): HashingQueueFullException {
    this.options.onRefused?.({ expectedWaitMs, waiting: this.waiting.length, timedOut });
    const freesIn = Math.max(this.expectedWaitMs(), this.averageJobMs);
    return new HashingQueueFullException(Math.max(1, Math.ceil(freesIn / 1000)));
  }
}

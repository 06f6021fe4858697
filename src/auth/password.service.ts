import { createHmac, randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';

import { BadRequestException, Inject, Injectable, Logger } from '@nestjs/common';
import bcrypt from 'bcrypt';

import type { AuthModuleOptions } from './auth.options.js';
import { AUTH_OPTIONS } from './auth.options.js';
import { HashingQueue } from './hashing-queue.js';
import type { PasswordPolicy } from './password-policy.js';
import { policyViolations } from './password-policy.js';

export const MIN_BCRYPT_ROUNDS = 10;

/** bcrypt reads at most this many bytes of its input and silently ignores the rest. */
const BCRYPT_MAX_BYTES = 72;

/**
 * Fixed, public HMAC key: it only separates this pre-hash from a bare SHA-384 of the password, so
 * an unsalted SHA-384 leaked elsewhere cannot be tried against our bcrypt hashes ("shucking").
 */
const PREHASH_KEY = 'guardhouse/bcrypt-prehash/v1';

/**
 * What bcrypt is given. Up to 72 UTF-8 bytes: the password itself, so every existing hash stays
 * valid. Longer: HMAC-SHA-384 of it in base64 (64 ASCII bytes, never a NUL, which would end
 * bcrypt's C string), so every byte of a long passphrase counts instead of being truncated away.
 * A ≤72-byte password colliding with such a base64 string would need a SHA-384 preimage.
 */
export function bcryptInput(password: string): string {
  if (Buffer.byteLength(password, 'utf8') <= BCRYPT_MAX_BYTES) return password;
  return createHmac('sha384', PREHASH_KEY).update(password, 'utf8').digest('base64');
}

/** libuv's thread pool, where native bcrypt runs (UV_THREADPOOL_SIZE, default 4). */
const threadPoolSize = (): number => Number(process.env.UV_THREADPOOL_SIZE) || 4;

/**
 * Hashing jobs run at once by default: one per core, and one thread of libuv's pool left for the
 * file system and DNS (the database driver resolves host names there when it opens connections).
 * More jobs at once would only share the same cores more slowly.
 */
export function defaultHashingConcurrency(): number {
  return Math.max(1, Math.min(availableParallelism(), threadPoolSize() - 1));
}

/** One password check a request has a place in the hashing queue for (PasswordService.reserveCheck). */
export interface ReservedPasswordCheck {
  verify(password: string, hash: string | undefined): Promise<boolean>;
  hash(password: string): Promise<string>;
  release(): void;
}

/** A compare job for the queue to run. */
const compareJob =
  (password: string, hash: string): (() => Promise<boolean>) =>
  () =>
    bcrypt.compare(bcryptInput(password), hash);

/** Before the first hash has been timed: about cost 12 on a small server. */
const FIRST_ESTIMATE_MS = 250;

/**
 * bcrypt, always async (native bcrypt hashes off the event loop), and the password policy. Every
 * hash and compare — login, signup, password change and reset, re-authentication — goes through
 * one bounded queue (HashingQueue): what the cores cannot hash within `hashing.queueTimeoutMs` is
 * refused at once with 503 and Retry-After, instead of every login slowing down together.
 */
@Injectable()
export class PasswordService {
  private readonly logger = new Logger(PasswordService.name);
  private readonly rounds: number;
  private readonly policy: PasswordPolicy;
  /** Compared against when the email is unknown, so both failures cost the same time. */
  private readonly dummyHash: Promise<string>;
  private readonly queue: HashingQueue;
  private refused = 0;

  constructor(@Inject(AUTH_OPTIONS) options: AuthModuleOptions) {
    this.rounds = Math.max(options.bcryptRounds ?? 12, MIN_BCRYPT_ROUNDS);
    this.policy = options.passwordPolicy ?? 'length';
    const timeoutMs = options.hashing?.queueTimeoutMs ?? 5000;
    this.queue = new HashingQueue({
      concurrency: options.hashing?.concurrency ?? defaultHashingConcurrency(),
      timeoutMs,
      initialJobMs: FIRST_ESTIMATE_MS,
      onRefused: ({ expectedWaitMs, waiting, timedOut }) =>
        this.logger.warn(
          `Password hashing queue full: a request was refused with 503 (${
            timedOut ? 'it waited' : `it would have waited about ${Math.round(expectedWaitMs)} ms,`
          } over the ${timeoutMs} ms allowed; ${waiting} waiting); ${++this.refused} refused since start`,
        ),
    });
    // The dummy hash is also the first timing of a hash at this cost (through the queue).
    this.dummyHash = this.queue.run(() =>
      bcrypt.hash(randomBytes(16).toString('hex'), this.rounds),
    );
  }

  /**
   * Throws the queue's 503 now when a password check could not start within the timeout, before
   * a request spends anything else (database reads, a counted login attempt) on it.
   */
  assertHashingCapacity(): void {
    this.queue.assertRoom();
  }

  /**
   * A place in the queue for this request's one password check, taken first (503 at once when
   * full): the check later starts without being refused again, and until then the place counts
   * in the estimate, so the logins let in are those the cores can hash in time and nothing is
   * spent on the others. `release()` when the request ends without checking (idempotent).
   * `signal` (the client's connection, see admitPasswordCheck): once the client has gone, the
   * check is dropped unrun.
   */
  reserveCheck(signal?: AbortSignal): ReservedPasswordCheck {
    const reservation = this.queue.reserve(signal);
    return {
      verify: (password, hash) => this.compare(password, hash, reservation),
      hash: (password) => reservation.run(this.hashJob(password)),
      release: () => reservation.release(),
    };
  }

  /**
   * The rules of the configured policy that the DTO's shared checks (length, common passwords)
   * cannot know: 400 naming each missing rule, in the ValidationPipe's shape.
   */
  assertAllowed(password: string, field: string): void {
    const problems = policyViolations(this.policy, password, field);
    if (problems.length > 0) throw new BadRequestException(problems);
  }

  hash(password: string): Promise<string> {
    return this.queue.run(this.hashJob(password));
  }

  /**
   * Hash and check for start-up work (the configured admin): they wait their turn in the queue
   * however long it is, instead of being refused like a client's request.
   */
  readonly atStartup = {
    hash: (password: string): Promise<string> => this.queue.runInTurn(this.hashJob(password)),
    verify: (password: string, hash: string): Promise<boolean> =>
      this.queue.runInTurn(compareJob(password, hash)),
  };

  /** `hash` undefined means "no such user": compare against the dummy and fail. */
  verify(password: string, hash: string | undefined): Promise<boolean> {
    return this.compare(password, hash, this.queue);
  }

  private async compare(
    password: string,
    hash: string | undefined,
    queue: Pick<HashingQueue, 'run'>,
  ): Promise<boolean> {
    if (hash === undefined) {
      const dummy = await this.dummyHash;
      await queue.run(compareJob(password, dummy));
      return false;
    }
    return queue.run(compareJob(password, hash));
  }

  /** A hashing job at the configured cost, for the queue to run. */
  private hashJob(password: string): () => Promise<string> {
    return () => bcrypt.hash(bcryptInput(password), this.rounds);
  }
}

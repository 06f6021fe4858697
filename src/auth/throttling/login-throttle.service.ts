import {
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  OnModuleDestroy,
  OnModuleInit,
} from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Types } from 'mongoose';
import { Model, trusted } from 'mongoose';

import type { AuthModuleOptions } from '../auth.options.js';
import { AUTH_OPTIONS } from '../auth.options.js';
import { clientKey } from './client-key.js';
import { LoginFailure } from './login-failure.schema.js';

/** 429 with the seconds until the client may try again. */
export class TooManyLoginAttemptsException extends HttpException {
  constructor(readonly retryAfterSeconds: number) {
    super(
      {
        statusCode: HttpStatus.TOO_MANY_REQUESTS,
        error: 'Too Many Requests',
        message: 'Too many failed logins; try again later',
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

/** Spacing past the slowdown threshold: 1 s, then doubled per further failure, up to a minute. */
const SLOWDOWN_BASE_MS = 1000;
const SLOWDOWN_MAX_MS = 60_000;
/** A password check takes well under this; a record still pending after it is a failure. */
const PENDING_STALE_MS = 30_000;
/**
 * An attempt held back only by checks still running waits for their outcome, retrying after
 * 25 ms, 50 ms, 100 ms… (with jitter), at most this long in all; then it is refused.
 */
const FIRST_PAUSE_MS = 25;
const MAX_WAIT_MS = 5000;

type FailureFilter = Partial<Pick<LoginFailure, 'email' | 'ip' | 'first'>>;

/** What a check decides: go on to the password check, wait for running checks, or refuse. */
type Verdict = 'go' | 'wait' | TooManyLoginAttemptsException;

/** An admitted attempt, to be reported as failed or succeeded once the password is checked. */
export interface LoginAttempt {
  readonly id: Types.ObjectId;
  readonly email: string;
  readonly client: string;
  /** This client had other records on the account when the attempt was admitted. */
  readonly known: boolean;
}

interface ClientRecord {
  _id: Types.ObjectId;
  email: string;
  at: Date;
  pending?: boolean;
}

/**
 * Failed-login limits, kept in MongoDB (one document per attempt, inserted: the one write that
 * is atomic on FerretDB too) so every API instance sees the same counts. A client is its IP
 * address (an IPv6 client its /64, see clientKey).
 *
 * - Per client and account: `maxFailuresPerAccount` failures, then 429 for that client only.
 * - Per client: `maxFailuresPerIp` failures over all accounts, then 429.
 * - Per account, so that many clients together stay bounded without anyone being able to lock
 *   the owner out: past `accountSlowdownAfter` failures on the account, attempts are spaced
 *   (1 s, 2 s, 4 s … up to 60 s; 429 with Retry-After when too early). A client that already
 *   failed on the account waits after its own last failure there. A client with no failure on
 *   the account shares one spacing with the other new clients, counted over first guesses only:
 *   every client that ever got a password checked passed through that door once, so guesses
 *   stay bounded however many addresses an attacker has, while the owner on a clean address
 *   gets in as long as the attacker does not keep bringing new addresses (then it is slowed
 *   down, at most SLOWDOWN_MAX_MS, never locked out).
 *
 * An attempt whose password check is running counts as a failure for the limits (so parallel
 * guesses stay bounded), but it may still succeed: an attempt over a limit only because of such
 * checks waits for their outcome instead of being refused, so simultaneous logins with the right
 * password all get in.
 */
@Injectable()
export class LoginThrottleService implements OnModuleInit, OnModuleDestroy {
  private readonly perClient: number;
  private readonly perIp: number;
  private readonly slowdownAfter: number;
  private readonly windowMs: number;
  private purgeTimer?: NodeJS.Timeout;

  constructor(
    @InjectModel(LoginFailure.name) private readonly failures: Model<LoginFailure>,
    @Inject(AUTH_OPTIONS) options: AuthModuleOptions,
  ) {
    this.perClient = options.loginThrottle?.maxFailuresPerAccount ?? 5;
    this.perIp = options.loginThrottle?.maxFailuresPerIp ?? 20;
    this.slowdownAfter = options.loginThrottle?.accountSlowdownAfter ?? 20;
    this.windowMs = (options.loginThrottle?.windowSeconds ?? 900) * 1000;
  }

  async onModuleInit(): Promise<void> {
    await this.failures.init();
    this.purgeTimer = setInterval(() => void this.purge(), this.windowMs);
    this.purgeTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.purgeTimer);
  }

  /**
   * Records this login attempt as a failure *before* the password is checked, then counts the
   * recent failures including it; over a limit, or too early, the attempt is taken back and 429
   * thrown. Counting first and recording afterwards would let a burst of parallel guesses all
   * pass the check before any of them is recorded; inserting first, each attempt sees every
   * attempt inserted before it, so at most `limit` get through. Over a limit only because of
   * checks still running, the attempt is taken back and tried again once they may have ended.
   * The caller reports the outcome with `failed` or `succeeded`.
   */
  async recordAttempt(email: string, ip: string): Promise<LoginAttempt> {
    const client = clientKey(ip);
    const deadline = Date.now() + MAX_WAIT_MS;
    for (let pause = FIRST_PAUSE_MS; ; pause *= 2) {
      const { _id: id } = await this.failures.create({
        email,
        ip: client,
        first: true,
        pending: true,
        at: new Date(),
      });
      let verdict: Verdict;
      let known = false;
      try {
        ({ verdict, known } = await this.check(id, email, client));
      } catch (error) {
        await this.failures.deleteOne({ _id: id });
        throw error;
      }
      if (verdict === 'go') return { id, email, client, known };
      await this.failures.deleteOne({ _id: id });
      if (verdict !== 'wait') throw verdict;
      const wait = pause * (0.5 + Math.random());
      if (Date.now() + wait > deadline) throw this.tooEarly(Date.now() + SLOWDOWN_BASE_MS);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /**
   * For checks in several steps (a second factor, a password re-check): the attempt is admitted
   * like a login and counts as a failure at once, until `reset` clears it when every step passed.
   */
  async countAttempt(email: string, ip: string): Promise<void> {
    await this.failed(await this.recordAttempt(email, ip));
  }

  /** Every step passed: this client's records on the account are cleared. */
  async reset(email: string, ip: string): Promise<void> {
    await this.failures.deleteMany({ email, ip: clientKey(ip) });
  }

  /**
   * Runs the password check of an admitted attempt. When the check itself fails (the hashing
   * queue is full, the database went away) the attempt is taken back: no answer was given on the
   * password, so it counts as no guess at all. The caller then reports `failed` or `succeeded`.
   */
  async settledBy(attempt: LoginAttempt, check: () => Promise<boolean>): Promise<boolean> {
    try {
      return await check();
    } catch (error) {
      await this.failures.deleteOne({ _id: attempt.id }).catch(() => undefined);
      throw error;
    }
  }

  /** The password was wrong: the attempt stays, as a failure. */
  async failed(attempt: LoginAttempt): Promise<void> {
    await this.failures.updateOne({ _id: attempt.id }, { $set: { pending: false } });
  }

  /** A successful login clears this client's failures on the account (its attempt included). */
  async succeeded(attempt: LoginAttempt): Promise<void> {
    if (!attempt.known) {
      await this.failures.deleteOne({ _id: attempt.id });
      return;
    }
    // Checks of this client still running on the account keep their records: they report
    // their own outcome.
    await this.failures.deleteMany({
      email: attempt.email,
      ip: attempt.client,
      $or: [{ _id: attempt.id }, ...this.settled()],
    });
  }

  /**
   * One read of this client's recent records serves both per-client limits and tells whether the
   * attempt is a first guess on the account; then the account-wide spacing.
   */
  private async check(
    id: Types.ObjectId,
    email: string,
    client: string,
  ): Promise<{ verdict: Verdict; known: boolean }> {
    const records = await this.failures
      .find({ ip: client, at: this.inWindow() })
      .select({ email: 1, at: 1, pending: 1 })
      .lean<ClientRecord[]>();
    const onAccount = records.filter((record) => record.email === email);
    const known = onAccount.some((record) => !record._id.equals(id));
    const ipVerdict = this.limit(records, id, this.perIp);
    if (ipVerdict !== 'go') return { verdict: ipVerdict, known };
    const clientVerdict = this.limit(onAccount, id, this.perClient);
    if (clientVerdict !== 'go') return { verdict: clientVerdict, known };
    // Inserted as a first guess; the client's earlier guesses on the account make it a repeat.
    if (known) await this.failures.updateOne({ _id: id }, { $set: { first: false } });
    return { verdict: await this.space(id, email, client, !known), known };
  }

  private inWindow() {
    return trusted({ $gt: new Date(Date.now() - this.windowMs) });
  }

  /** Records that count as failures whatever happens: failed, or pending for too long. */
  private settled() {
    return [
      { pending: trusted({ $ne: true }) },
      { at: trusted({ $lte: new Date(Date.now() - PENDING_STALE_MS) }) },
    ];
  }

  private isSettled(record: ClientRecord): boolean {
    return record.pending !== true || record.at.getTime() <= Date.now() - PENDING_STALE_MS;
  }

  /**
   * More than `limit` recent records (this attempt's included): 429 until the oldest failure
   * leaves the window when the settled failures alone reach it, else wait for the running checks.
   */
  private limit(records: ClientRecord[], id: Types.ObjectId, limit: number): Verdict {
    if (records.length <= limit) return 'go';
    const failures = records.filter((record) => !record._id.equals(id) && this.isSettled(record));
    if (failures.length < limit) return 'wait';
    const oldest = Math.min(...failures.map((record) => record.at.getTime()));
    return this.tooEarly(oldest + this.windowMs);
  }

  /**
   * Past the account's slowdown threshold, 429 unless the previous failure of the attempt's lane
   * (this client's own, or all first guesses) is at least the current spacing old. Refused only
   * because of checks still running, the attempt waits.
   */
  private async space(
    attemptId: Types.ObjectId,
    email: string,
    client: string,
    first: boolean,
  ): Promise<Verdict> {
    const counted: FailureFilter = first ? { email, first: true } : { email };
    const before = (await this.failures.countDocuments({ ...counted, at: this.inWindow() })) - 1;
    if (before < this.slowdownAfter) return 'go';
    const lane: FailureFilter = first ? { email, first: true } : { email, ip: client };
    const freesAt = await this.spacedUntil(attemptId, lane, before, false);
    if (freesAt <= Date.now()) return 'go';
    const settledBefore = await this.failures.countDocuments({
      ...counted,
      _id: trusted({ $ne: attemptId }),
      at: this.inWindow(),
      $or: this.settled(),
    });
    if (settledBefore < this.slowdownAfter) return 'wait';
    const settledFreesAt = await this.spacedUntil(attemptId, lane, settledBefore, true);
    return settledFreesAt <= Date.now() ? 'wait' : this.tooEarly(settledFreesAt);
  }

  /** When the lane's previous record (a settled one only, if asked) is the spacing old. */
  private async spacedUntil(
    attemptId: Types.ObjectId,
    lane: FailureFilter,
    before: number,
    settledOnly: boolean,
  ): Promise<number> {
    const spacing = Math.min(
      SLOWDOWN_MAX_MS,
      SLOWDOWN_BASE_MS * 2 ** Math.min(before - this.slowdownAfter, 30),
    );
    const previous = await this.failures
      .findOne({
        ...lane,
        _id: trusted({ $ne: attemptId }),
        at: this.inWindow(),
        ...(settledOnly ? { $or: this.settled() } : {}),
      })
      .sort({ at: -1 });
    return previous ? previous.at.getTime() + spacing : 0;
  }

  private tooEarly(freesAt: number): TooManyLoginAttemptsException {
    return new TooManyLoginAttemptsException(Math.max(1, Math.ceil((freesAt - Date.now()) / 1000)));
  }

  private async purge(): Promise<void> {
    await this.failures
      .deleteMany({ at: trusted({ $lte: new Date(Date.now() - this.windowMs) }) })
      .catch(() => undefined);
  }
}

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

type FailureFilter = Partial<Pick<LoginFailure, 'email' | 'ip' | 'first'>>;

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
   * attempt inserted before it, so at most `limit` get through. `reset` forgives on success.
   */
  async recordAttempt(email: string, ip: string): Promise<void> {
    const client = clientKey(ip);
    const known = await this.failures.exists({ email, ip: client, at: this.inWindow() });
    const attempt = await this.failures.create({
      email,
      ip: client,
      first: !known,
      at: new Date(),
    });
    try {
      await this.limit({ ip: client }, this.perIp);
      await this.limit({ email, ip: client }, this.perClient);
      await this.space(attempt._id, email, client, !known);
    } catch (error) {
      await this.failures.deleteOne({ _id: attempt._id });
      throw error;
    }
  }

  /** A successful login clears this client's failures on the account (its attempt included). */
  async reset(email: string, ip: string): Promise<void> {
    await this.failures.deleteMany({ email, ip: clientKey(ip) });
  }

  private inWindow() {
    return trusted({ $gt: new Date(Date.now() - this.windowMs) });
  }

  /** 429 when more than `limit` recent failures match, until the oldest leaves the window. */
  private async limit(filter: FailureFilter, limit: number): Promise<void> {
    const recent = { ...filter, at: this.inWindow() };
    if ((await this.failures.countDocuments(recent)) <= limit) return;
    const oldest = await this.failures.findOne(recent).sort({ at: 1 });
    throw this.tooEarly((oldest?.at.getTime() ?? Date.now()) + this.windowMs);
  }

  /**
   * Past the account's slowdown threshold, 429 unless the previous failure of the attempt's lane
   * (this client's own, or all first guesses) is at least the current spacing old.
   */
  private async space(
    attemptId: Types.ObjectId,
    email: string,
    client: string,
    first: boolean,
  ): Promise<void> {
    const counted: FailureFilter = first ? { email, first: true } : { email };
    const before = (await this.failures.countDocuments({ ...counted, at: this.inWindow() })) - 1;
    if (before < this.slowdownAfter) return;
    const spacing = Math.min(
      SLOWDOWN_MAX_MS,
      SLOWDOWN_BASE_MS * 2 ** Math.min(before - this.slowdownAfter, 30),
    );
    const lane: FailureFilter = first ? { email, first: true } : { email, ip: client };
    const previous = await this.failures
      .findOne({ ...lane, _id: trusted({ $ne: attemptId }), at: this.inWindow() })
      .sort({ at: -1 });
    if (previous && Date.now() - previous.at.getTime() < spacing) {
      throw this.tooEarly(previous.at.getTime() + spacing);
    }
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

import {
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  OnModuleDestroy,
  OnModuleInit,
} from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, trusted } from 'mongoose';
import type { AuthModuleOptions } from '../auth.options.js';
import { AUTH_OPTIONS } from '../auth.options.js';
import { LoginFailure } from './login-failure.schema.js';

/** 429 with the seconds until the oldest counted failure leaves the window. */
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

/**
 * Failed-login limits per account and per client IP, kept in MongoDB (one document per attempt,
 * inserted: the one write that is atomic on FerretDB too) so every API instance sees the same
 * counts. A successful login clears the account's failures (and its own attempt), not the IP's.
 */
@Injectable()
export class LoginThrottleService implements OnModuleInit, OnModuleDestroy {
  private readonly perAccount: number;
  private readonly perIp: number;
  private readonly windowMs: number;
  private purgeTimer?: NodeJS.Timeout;

  constructor(
    @InjectModel(LoginFailure.name) private readonly failures: Model<LoginFailure>,
    @Inject(AUTH_OPTIONS) options: AuthModuleOptions,
  ) {
    this.perAccount = options.loginThrottle?.maxFailuresPerAccount ?? 5;
    this.perIp = options.loginThrottle?.maxFailuresPerIp ?? 20;
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
   * recent failures of the account and of the IP including it; over a limit, the attempt is taken
   * back and 429 thrown. Counting first and recording afterwards would let a burst of parallel
   * guesses all pass the check before any of them is recorded; inserting first, each attempt sees
   * every attempt inserted before it, so at most `limit` get through. `reset` forgives on success.
   */
  async recordAttempt(email: string, ip: string): Promise<void> {
    const attempt = await this.failures.create({ email, ip, at: new Date() });
    const since = new Date(Date.now() - this.windowMs);
    for (const [filter, limit] of [
      [{ email }, this.perAccount],
      [{ ip }, this.perIp],
    ] as const) {
      const recent = { ...filter, at: trusted({ $gt: since }) };
      const count = await this.failures.countDocuments(recent);
      if (count > limit) {
        await this.failures.deleteOne({ _id: attempt._id });
        const oldest = await this.failures.findOne(recent).sort({ at: 1 });
        const freesAt = (oldest?.at.getTime() ?? Date.now()) + this.windowMs;
        throw new TooManyLoginAttemptsException(
          Math.max(1, Math.ceil((freesAt - Date.now()) / 1000)),
        );
      }
    }
  }

  /** A successful login clears the account's failures (its attempt included). */
  async reset(email: string): Promise<void> {
    await this.failures.deleteMany({ email });
  }

  private async purge(): Promise<void> {
    await this.failures
      .deleteMany({ at: trusted({ $lte: new Date(Date.now() - this.windowMs) }) })
      .catch(() => undefined);
  }
}

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
 * Failed-login limits per account and per client IP, kept in MongoDB so every API instance sees
 * the same counts. A successful login clears the account's failures (not the IP's).
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

  /** Throws 429 when the account or the IP is over its limit. Call before checking the password. */
  async assertAllowed(email: string, ip: string): Promise<void> {
    const since = new Date(Date.now() - this.windowMs);
    for (const [filter, limit] of [
      [{ email }, this.perAccount],
      [{ ip }, this.perIp],
    ] as const) {
      const recent = { ...filter, at: trusted({ $gt: since }) };
      const count = await this.failures.countDocuments(recent);
      if (count >= limit) {
        const oldest = await this.failures.findOne(recent).sort({ at: 1 });
        const freesAt = (oldest?.at.getTime() ?? Date.now()) + this.windowMs;
        throw new TooManyLoginAttemptsException(
          Math.max(1, Math.ceil((freesAt - Date.now()) / 1000)),
        );
      }
    }
  }

  async recordFailure(email: string, ip: string): Promise<void> {
    await this.failures.create({ email, ip, at: new Date() });
  }

  async reset(email: string): Promise<void> {
    await this.failures.deleteMany({ email });
  }

  private async purge(): Promise<void> {
    await this.failures
      .deleteMany({ at: trusted({ $lte: new Date(Date.now() - this.windowMs) }) })
      .catch(() => undefined);
  }
}

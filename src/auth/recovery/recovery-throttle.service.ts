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
import { MailGrant } from '../mail/mail.service.js';
import { clientKey } from '../throttling/client-key.js';
import { RecoveryAttempt } from './recovery-attempt.schema.js';

export class TooManyRecoveryRequestsException extends HttpException {
  constructor(readonly retryAfterSeconds: number) {
    super(
      {
        statusCode: HttpStatus.TOO_MANY_REQUESTS,
        error: 'Too Many Requests',
        message: 'Too many requests; try again later',
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

/**
 * Limits the requests that send mail or present a mailed token, per address (however many clients
 * send them: that is what stops a mailbox being flooded) and per client IP. As for failed logins,
 * each request is inserted first and counted afterwards, so parallel bursts cannot all pass. The
 * per-address count does not depend on whether an account has that address, and runs before the
 * address is looked up. Mail to an address on request needs the MailGrant `grant` or
 * `grantQuietly` returns: counting is not optional.
 */
@Injectable()
export class RecoveryThrottleService implements OnModuleInit, OnModuleDestroy {
  private readonly perAccount: number;
  private readonly perIp: number;
  private readonly windowMs: number;
  private purgeTimer?: NodeJS.Timeout;

  constructor(
    @InjectModel(RecoveryAttempt.name) private readonly attempts: Model<RecoveryAttempt>,
    @Inject(AUTH_OPTIONS) options: AuthModuleOptions,
  ) {
    this.perAccount = options.mail?.maxPerAccount ?? 5;
    this.perIp = options.mail?.maxPerIp ?? 20;
    this.windowMs = (options.mail?.windowSeconds ?? 900) * 1000;
  }

  async onModuleInit(): Promise<void> {
    await this.attempts.init();
    this.purgeTimer = setInterval(() => void this.purge(), this.windowMs);
    this.purgeTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.purgeTimer);
  }

  /** Counts this request; 429 (and not counted) when the address or the client is over its limit. */
  async hit(kind: string, ip: string, account?: string): Promise<void> {
    const client = clientKey(ip);
    const attempt = await this.attempts.create({
      kind,
      account: account ?? null,
      ip: client,
      at: new Date(),
    });
    try {
      await this.limit({ ip: client }, this.perIp);
      if (account !== undefined) await this.limit({ kind, account }, this.perAccount);
    } catch (error) {
      await this.attempts.deleteOne({ _id: attempt._id });
      throw error;
    }
  }

  /** `hit` for a request that mails `address`: the leave to send that one message. */
  async grant(kind: string, ip: string, address: string): Promise<MailGrant> {
    await this.hit(kind, ip, address);
    return MailGrant.afterCounting(address);
  }

  /**
   * For routes whose answer must not change with the budget (signup: a 429 there would tell a
   * taken address from a new one): counted per address only; over the limit the request is not
   * counted and null comes back, so nothing is mailed and the answer stays the same.
   */
  async grantQuietly(kind: string, address: string): Promise<MailGrant | null> {
    const attempt = await this.attempts.create({ kind, account: address, at: new Date() });
    try {
      await this.limit({ kind, account: address }, this.perAccount);
      return MailGrant.afterCounting(address);
    } catch (error) {
      await this.attempts.deleteOne({ _id: attempt._id });
      if (error instanceof TooManyRecoveryRequestsException) return null;
      throw error;
    }
  }

  private async limit(filter: Partial<RecoveryAttempt>, limit: number): Promise<void> {
    const recent = { ...filter, at: trusted({ $gt: new Date(Date.now() - this.windowMs) }) };
    if ((await this.attempts.countDocuments(recent)) <= limit) return;
    const oldest = await this.attempts.findOne(recent).sort({ at: 1 });
    const freesAt = (oldest?.at.getTime() ?? Date.now()) + this.windowMs;
    throw new TooManyRecoveryRequestsException(
      Math.max(1, Math.ceil((freesAt - Date.now()) / 1000)),
    );
  }

  private async purge(): Promise<void> {
    await this.attempts
      .deleteMany({ at: trusted({ $lte: new Date(Date.now() - this.windowMs) }) })
      .catch(() => undefined);
  }
}

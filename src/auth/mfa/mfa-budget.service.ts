import { HttpException, HttpStatus, Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Types } from 'mongoose';
import { Model, trusted } from 'mongoose';

import type { AuthModuleOptions } from '../auth.options.js';
import { AUTH_OPTIONS } from '../auth.options.js';
import { MfaAttempt } from './schemas/mfa.schema.js';

/** Wrong codes one login challenge (one mfaToken) may get checked, from all clients together. */
export const MFA_CHALLENGE_MAX_FAILURES = 5;
/** Default of `mfa.maxFailuresPerDay` (MFA_MAX_FAILURES_PER_DAY). */
export const MFA_DEFAULT_MAX_FAILURES_PER_DAY = 10;
/** The window of the per-account cap: failures older than this no longer count. */
export const MFA_FAILURE_WINDOW_MS = 24 * 3600_000;

/** 429: the account's daily budget of wrong codes is spent; a recovery code still gets checked. */
export class TooManyMfaFailuresException extends HttpException {
  constructor(readonly retryAfterSeconds: number) {
    super(
      {
        statusCode: HttpStatus.TOO_MANY_REQUESTS,
        error: 'Too Many Requests',
        message:
          'Too many wrong codes for this account: finish with a recovery code, or reset the ' +
          'password by mail',
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

/** The login challenge has spent its wrong codes: it is dead (answered as a bad mfaToken). */
export class MfaChallengeSpentError extends Error {
  constructor() {
    super('The login challenge has no attempts left');
  }
}

/** What one check is about. */
export interface MfaCheckScope {
  userId: string;
  /** The login challenge's `_id`, for the second step of a login. */
  challengeId?: string;
  /** Recovery codes are still checked once the daily cap is reached (their failures count). */
  kind: 'totp' | 'recovery';
}

/** A wrong code on a login challenge: the failures now, this one included (else zeros). */
export interface MfaFailureCounts {
  /** The account's on login challenges (codes that followed a correct password) in the window. */
  afterPassword: number;
  /** This challenge's (0 without one). */
  challenge: number;
}

export type MfaCheckOutcome<T> =
  { right: true; value: T } | { right: false; failures: MfaFailureCounts };

/**
 * Hard caps on second-factor guesses, however many clients send them: a login challenge gets at
 * most MFA_CHALLENGE_MAX_FAILURES wrong codes checked, an account at most `maxFailuresPerDay`
 * in 24 hours (then only recovery codes are checked). The budget is spent atomically: each check
 * inserts its record first and counts afterwards, so of any number of concurrent checks at most
 * the budget go ahead (the login throttle's pattern). A right code gives its record back, and so
 * does a server error during the check: only wrong codes spend the budget.
 */
@Injectable()
export class MfaBudgetService implements OnModuleInit {
  private readonly maxPerDay: number;

  constructor(
    @InjectModel(MfaAttempt.name) private readonly attempts: Model<MfaAttempt>,
    @Inject(AUTH_OPTIONS) options: AuthModuleOptions,
  ) {
    this.maxPerDay = options.mfa?.maxFailuresPerDay ?? MFA_DEFAULT_MAX_FAILURES_PER_DAY;
    if (!(this.maxPerDay >= 1)) throw new Error('mfa.maxFailuresPerDay must be at least 1');
  }

  async onModuleInit(): Promise<void> {
    await this.attempts.init();
  }

  /**
   * Runs `check` (null: wrong code) within the budgets. Over the challenge's budget it throws
   * MfaChallengeSpentError without checking; over the account's, TooManyMfaFailuresException for
   * a TOTP code (a recovery code is still checked). Whatever `check` throws is rethrown with the
   * attempt given back.
   */
  async run<T>(scope: MfaCheckScope, check: () => Promise<T | null>): Promise<MfaCheckOutcome<T>> {
    const id = await this.open(scope);
    let value: T | null;
    try {
      value = await check();
    } catch (error) {
      await this.attempts.deleteOne({ _id: id });
      throw error;
    }
    if (value !== null) {
      await this.attempts.deleteOne({ _id: id });
      return { right: true, value };
    }
    // What follows a wrong code (a dead challenge, the owner's notice) is about login challenges.
    if (scope.challengeId === undefined) {
      return { right: false, failures: { afterPassword: 0, challenge: 0 } };
    }
    const [afterPassword, challenge] = await Promise.all([
      this.attempts.countDocuments({
        user: scope.userId,
        challenge: trusted({ $ne: null }),
        at: this.inWindow(),
      }),
      this.attempts.countDocuments({ challenge: scope.challengeId }),
    ]);
    return { right: false, failures: { afterPassword, challenge } };
  }

  /** A recovery code got in, or the password was reset by mail: the account starts afresh. */
  async clear(userId: string): Promise<void> {
    await this.attempts.deleteMany({ user: userId });
  }

  async purgeExpired(): Promise<void> {
    await this.attempts.deleteMany({ expiresAt: trusted({ $lte: new Date() }) });
  }

  /** Inserts the attempt, then counts (its own included); over a budget it is taken back. */
  private async open(scope: MfaCheckScope): Promise<Types.ObjectId> {
    const at = new Date();
    const { _id: id } = await this.attempts.create({
      user: scope.userId,
      challenge: scope.challengeId ?? null,
      at,
      expiresAt: new Date(at.getTime() + MFA_FAILURE_WINDOW_MS),
    });
    try {
      if (scope.challengeId !== undefined) {
        const onChallenge = await this.attempts.countDocuments({ challenge: scope.challengeId });
        if (onChallenge > MFA_CHALLENGE_MAX_FAILURES) throw new MfaChallengeSpentError();
      }
      if (scope.kind === 'totp') {
        const onAccount = await this.attempts.countDocuments({
          user: scope.userId,
          at: this.inWindow(),
        });
        if (onAccount > this.maxPerDay) throw await this.tooMany(scope.userId);
      }
    } catch (error) {
      await this.attempts.deleteOne({ _id: id });
      throw error;
    }
    return id;
  }

  private async tooMany(userId: string): Promise<TooManyMfaFailuresException> {
    const oldest = await this.attempts
      .findOne({ user: userId, at: this.inWindow() })
      .sort({ at: 1 });
    const freesAt = (oldest?.at.getTime() ?? Date.now()) + MFA_FAILURE_WINDOW_MS;
    return new TooManyMfaFailuresException(Math.max(1, Math.ceil((freesAt - Date.now()) / 1000)));
  }

  private inWindow() {
    return trusted({ $gt: new Date(Date.now() - MFA_FAILURE_WINDOW_MS) });
  }
}

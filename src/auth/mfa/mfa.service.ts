import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto';

import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  OnModuleDestroy,
  OnModuleInit,
  UnauthorizedException,
} from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, trusted } from 'mongoose';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';

import { checkAccountPassword } from '../account-password.js';
import { UserLifecycle } from '../accounts/user-lifecycle.service.js';
import type { AuthUserRecord } from '../accounts/users.service.js';
import { UsersService } from '../accounts/users.service.js';
import type { SecondFactorFailureReason, SecondFactorMethod } from '../audit/audit-events.js';
import { AuditRecorder, byAnonymous, byUser } from '../audit/audit-recorder.service.js';
import type { AuthModuleOptions } from '../auth.options.js';
import { AUTH_OPTIONS } from '../auth.options.js';
import type { AuthMethod } from '../core/auth-methods.js';
import type { AuthUser } from '../core/auth-user.js';
import type { ClientInfo } from '../core/client-info.js';
import { MailService } from '../mail/mail.service.js';
import { mails } from '../mail/mail-templates.js';
import { PasswordService } from '../password.service.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { isDuplicateKeyError } from '../shared/duplicate-key.js';
import { LoginThrottleService } from '../throttling/login-throttle.service.js';
import type {
  AdminDisableMfaDto,
  DisableTotpDto,
  MfaChallengeDto,
  MfaLoginDto,
  RecoveryCodesDto,
  TotpEnrolmentDto,
} from './dto/mfa.dto.js';
import type { MfaCheckScope, MfaFailureCounts } from './mfa-budget.service.js';
import {
  MFA_CHALLENGE_MAX_FAILURES,
  MfaBudgetService,
  MfaChallengeSpentError,
} from './mfa-budget.service.js';
import { MfaChallenge, MfaFactor, MfaRecoveryCode, MfaUsed } from './schemas/mfa.schema.js';
import { SecretBox } from './secret-box.js';
import type { SecurityNotices } from './security-notices.js';
import { NO_SECURITY_NOTICES } from './security-notices.js';

/** The mfaToken's lifetime. */
export const MFA_TOKEN_TTL_SECONDS = 300;
export const RECOVERY_CODE_COUNT = 10;
const TOTP_PERIOD_SECONDS = 30;
/** A code of the previous or next time step is accepted too (clock drift). */
const TOTP_WINDOW = 1;
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstvwxyz0123456789';
const PURGE_INTERVAL_MS = 15 * 60 * 1000;
/** Wrong codes after a correct password (in the failure window) before the owner is mailed. */
export const MFA_NOTICE_AFTER_FAILURES = 3;
const HOUR_MS = 3600_000;

const INVALID_TOKEN = 'Invalid or expired MFA token';
const INVALID_CODE = 'Invalid code';

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');
const normalizeRecoveryCode = (code: string): string => code.toLowerCase().replace(/[\s-]/g, '');

/** What a right code finishes: the key that makes it single-use, and a recovery code's id. */
interface CodeMatch {
  useKey: string;
  useExpiry: Date | null;
  recoveryCodeId?: string;
}

/** A finished second step: the user to open a session for, bound to `credential`. */
export interface MfaLoginResult {
  user: AuthUserRecord;
  /** The credential version of the first step's password check. */
  credential: string | null;
  /** How the first step authenticated (RFC 8176 values): `['pwd']` for a password. */
  firstFactor: AuthMethod[];
  recoveryCodesRemaining?: number;
}

/** A password check waiting for its second step (see MfaService.pendingLogin). */
export interface PendingMfaLogin {
  /** The SHA-256 of the mfaToken. */
  id: string;
  userId: string;
  /** The email the password was checked for (failures count against it). */
  email: string;
  credential: string | null;
  /** How the first step authenticated: `pwd`, or `fed` after an OpenID Connect sign-in. */
  firstFactor: AuthMethod[];
  expiresAt: Date;
}

/**
 * TOTP (RFC 6238) second factor: enrolment, login challenges, recovery codes. Every "only once"
 * rule (an mfaToken, a code's time step, a recovery code, a confirmation) is an insert into
 * `mfa_used` keyed by the thing itself, so it holds across instances on FerretDB too. Every code
 * checked counts as a failed login until it succeeds (same limits as passwords), and within the
 * second factor's own hard caps (MfaBudgetService): per challenge, per account and day.
 */
@Injectable()
export class MfaService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(MfaService.name);
  readonly enabled: boolean;
  private readonly box?: SecretBox;
  private readonly issuer: string;
  private readonly notices: SecurityNotices;
  private purgeTimer?: NodeJS.Timeout;

  constructor(
    @InjectModel(MfaFactor.name) private readonly factors: Model<MfaFactor>,
    @InjectModel(MfaRecoveryCode.name) private readonly recoveryCodes: Model<MfaRecoveryCode>,
    @InjectModel(MfaChallenge.name) private readonly challenges: Model<MfaChallenge>,
    @InjectModel(MfaUsed.name) private readonly used: Model<MfaUsed>,
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly sessions: SessionsService,
    private readonly throttle: LoginThrottleService,
    private readonly lifecycle: UserLifecycle,
    private readonly budget: MfaBudgetService,
    private readonly audit: AuditRecorder,
    mail: MailService,
    @Inject(AUTH_OPTIONS) options: AuthModuleOptions,
  ) {
    this.enabled = options.mfa !== undefined && options.mfa.enabled !== false;
    this.issuer = options.mfa?.issuer ?? 'Guardhouse';
    this.notices =
      options.securityNotices ?? (mail.enabled ? mailedNotices(mail) : NO_SECURITY_NOTICES);
    if (this.enabled) {
      if (!options.mfa?.encryptionKey) {
        throw new Error('mfa.encryptionKey is required when the second factor is enabled');
      }
      this.box = new SecretBox(options.mfa.encryptionKey);
    }
  }

  async onModuleInit(): Promise<void> {
    await Promise.all([
      this.factors.init(),
      this.recoveryCodes.init(),
      this.challenges.init(),
      this.used.init(),
    ]);
    this.lifecycle.register({ userDeleting: (userId) => this.forget(userId) });
    this.purgeTimer = setInterval(() => void this.purgeExpired(), PURGE_INTERVAL_MS);
    this.purgeTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.purgeTimer);
  }

  // ---- enrolment ----

  async status(user: AuthUser): Promise<{ totpEnabled: boolean; recoveryCodesRemaining: number }> {
    this.requireEnabled();
    const factor = await this.factors.findById(user.id);
    if (!factor?.confirmedAt) return { totpEnabled: false, recoveryCodesRemaining: 0 };
    return {
      totpEnabled: true,
      recoveryCodesRemaining: await this.countRecoveryCodes(user.id, factor.enrolment),
    };
  }

  /** A new (pending) secret; replaces an unconfirmed one. The password is checked like a login. */
  async startTotp(user: AuthUser, password: string, ip: string): Promise<TotpEnrolmentDto> {
    const box = this.requireEnabled();
    await this.checkPassword(user, password, ip);
    if ((await this.factors.findById(user.id))?.confirmedAt) {
      throw new ConflictException('The second factor is already on; turn it off first');
    }
    const secret = new Secret({ size: 20 });
    await this.factors.replaceOne(
      { _id: user.id },
      { secret: box.seal(secret.base32, user.id), enrolment: randomUUID(), confirmedAt: null },
      { upsert: true },
    );
    const otpauthUri = this.totp(secret, user.email).toString();
    return { secret: secret.base32, otpauthUri, qrCode: await QRCode.toDataURL(otpauthUri) };
  }

  /** A code from the app turns the factor on; the ten recovery codes are returned this once. */
  async confirmTotp(user: AuthUser, code: string, client: ClientInfo): Promise<RecoveryCodesDto> {
    const { ip } = client;
    const box = this.requireEnabled();
    const factor = await this.factors.findById(user.id);
    if (!factor) throw new ConflictException('Start the enrolment first');
    if (factor.confirmedAt) throw new ConflictException('The second factor is already on');
    await this.throttle.countAttempt(user.email, ip);
    const step = this.matchCode(box, factor, user.id, code);
    if (step === null) throw new BadRequestException('code is incorrect');
    if (!(await this.useOnce(`totp:${user.id}:${step}`, user.id, this.stepExpiry()))) {
      throw new BadRequestException('code was already used');
    }
    // Of concurrent confirmations of one enrolment, one issues the codes.
    if (!(await this.useOnce(`confirm:${factor.enrolment}`, user.id, null))) {
      throw new ConflictException('The second factor is already on');
    }
    await this.throttle.reset(user.email, ip);
    const codes = await this.issueRecoveryCodes(box, user.id, factor.enrolment);
    await this.factors.updateOne({ _id: user.id }, { $set: { confirmedAt: new Date() } });
    await this.users.setMfaEnabled(user.id, true);
    this.audit.record('mfa.enrolled', {}, byUser(user, client));
    await this.notify('mfaEnabled', () => this.notices.mfaEnabled(user));
    return { recoveryCodes: codes };
  }

  /** Off with the password and a current code (a stolen access token alone cannot do it). */
  async disableTotp(user: AuthUser, dto: DisableTotpDto, client: ClientInfo): Promise<void> {
    const { ip } = client;
    const box = this.requireEnabled();
    const factor = await this.factors.findById(user.id);
    if (!factor?.confirmedAt) throw new ConflictException('The second factor is not on');
    await this.checkPassword(user, dto.password, ip, false);
    await this.useOwnCode(box, user, factor, dto.code);
    await this.throttle.reset(user.email, ip);
    await this.forget(user.id);
    this.audit.record('mfa.removed', { by: 'user' }, byUser(user, client));
    await this.notify('mfaDisabled', () => this.notices.mfaDisabled(user, false));
  }

  /**
   * A current code of the user's factor, as a proof for re-authentication: counted like a login
   * attempt and within the account's daily cap, single use (the time step is spent). 400 when
   * the factor is off or the code wrong.
   */
  async checkCode(user: AuthUser, code: string, ip: string): Promise<void> {
    const box = this.requireEnabled();
    const factor = await this.factors.findById(user.id);
    if (!factor?.confirmedAt) throw new BadRequestException('The second factor is not on');
    await this.throttle.countAttempt(user.email, ip);
    await this.useOwnCode(box, user, factor, code);
    await this.throttle.reset(user.email, ip);
  }

  /**
   * Admin recovery: the factor goes and the user's sessions end. 404 when it is not on. The
   * acting admin proves who they are first (password, and their own code when their factor is
   * on), so a stolen admin token alone resets nobody; their own factor is theirs to turn off
   * with password and code (403 here, whatever the body).
   */
  async adminDisable(
    admin: AuthUser,
    userId: string,
    dto: AdminDisableMfaDto,
    client: ClientInfo,
  ): Promise<void> {
    const { ip } = client;
    const box = this.requireEnabled();
    if (userId === admin.id) {
      throw new ForbiddenException(
        'Turn your own second factor off with DELETE /api/auth/mfa/totp (password and code)',
      );
    }
    await this.checkPassword(admin, dto.password, ip, false);
    const own = await this.factors.findById(admin.id);
    if (own?.confirmedAt) {
      if (dto.code === undefined) {
        throw new BadRequestException('code is required: your second factor is on');
      }
      await this.useOwnCode(box, admin, own, dto.code);
    }
    await this.throttle.reset(admin.email, ip);
    const user = await this.users.getById(userId);
    const factor = await this.factors.findById(userId);
    if (!factor?.confirmedAt) throw new NotFoundException('This user has no second factor');
    await this.forget(userId);
    await this.sessions.revokeAllForUser(userId);
    this.audit.record('mfa.removed', { by: 'admin' }, byUser(admin, client, userId));
    await this.notify('mfaDisabled', () => this.notices.mfaDisabled(user, true));
  }

  // ---- login ----

  /** Whether a correct password must be followed by a code. */
  async isRequired(userId: string): Promise<boolean> {
    if (!this.enabled) return false;
    return Boolean((await this.factors.findById(userId))?.confirmedAt);
  }

  /**
   * The first step's answer: a single-use token bound to this password check (or, with
   * `firstFactor`, to another first step, such as an OpenID Connect sign-in).
   */
  async challenge(
    user: AuthUserRecord,
    email: string,
    firstFactor?: AuthMethod[],
  ): Promise<MfaChallengeDto> {
    const mfaToken = randomBytes(32).toString('base64url');
    await this.challenges.create({
      _id: sha256(mfaToken),
      user: user.id,
      email,
      credential: user.credentialVersion,
      ...(firstFactor ? { firstFactor } : {}),
      expiresAt: new Date(Date.now() + MFA_TOKEN_TTL_SECONDS * 1000),
    });
    return { mfaRequired: true, mfaToken, expiresIn: MFA_TOKEN_TTL_SECONDS };
  }

  /**
   * The second step. The code is checked before anything is used up: a typo costs a counted
   * failure, not the token (until the challenge's MFA_CHALLENGE_MAX_FAILURES are spent: then the
   * token dies). Then the token and the code are each used once (inserts); losing either race is
   * a 401. Past the account's daily cap only a recovery code is checked.
   */
  async finishLogin(dto: MfaLoginDto, client: ClientInfo): Promise<MfaLoginResult> {
    const { ip } = client;
    const box = this.requireEnabled();
    if ((dto.code === undefined) === (dto.recoveryCode === undefined)) {
      throw new BadRequestException('Send either code or recoveryCode');
    }
    const method: SecondFactorMethod = dto.code !== undefined ? 'totp' : 'recovery_code';
    const challenge = await this.challenges.findById(sha256(dto.mfaToken));
    if (!challenge || challenge.expiresAt.getTime() <= Date.now()) {
      this.failed('invalid_token', method, challenge?.user.toString() ?? null, client);
      throw new UnauthorizedException(INVALID_TOKEN);
    }
    await this.throttle.countAttempt(challenge.email, ip);
    const userId = challenge.user.toString();
    const user = await this.users.findById(userId);
    const factor = await this.factors.findById(userId);
    const credential = challenge.credential ?? null;
    const firstFactor = challenge.firstFactor?.length ? challenge.firstFactor : ['pwd' as const];
    if (!user || !factor?.confirmedAt || user.credentialVersion !== credential) {
      this.failed('invalid_token', method, userId, client);
      throw new UnauthorizedException(INVALID_TOKEN);
    }
    if (!user.active) {
      this.audit.record(
        'login.failed',
        { reason: 'disabled', email: challenge.email },
        byAnonymous(userId, client),
      );
      throw new ForbiddenException('This account is disabled');
    }

    const scope: MfaCheckScope = {
      userId,
      challengeId: challenge._id,
      kind: dto.code !== undefined ? 'totp' : 'recovery',
    };
    const outcome = await this.budget
      .run(scope, () =>
        dto.code !== undefined
          ? Promise.resolve(this.matchTotp(box, factor, userId, dto.code))
          : this.matchRecoveryCode(box, factor, userId, dto.recoveryCode ?? ''),
      )
      .catch(async (error: unknown) => {
        if (!(error instanceof MfaChallengeSpentError)) throw error;
        await this.challenges.deleteOne({ _id: challenge._id });
        this.failed('invalid_token', method, userId, client);
        throw new UnauthorizedException(INVALID_TOKEN);
      });
    if (!outcome.right) {
      this.failed('wrong_code', method, userId, client);
      await this.afterWrongLoginCode(user, challenge._id, outcome.failures);
      throw new UnauthorizedException(INVALID_CODE);
    }
    const { useKey, useExpiry, recoveryCodeId } = outcome.value;
    if (!(await this.useOnce(`challenge:${challenge._id}`, userId, challenge.expiresAt))) {
      this.failed('invalid_token', method, userId, client);
      throw new UnauthorizedException(INVALID_TOKEN);
    }
    await this.challenges.deleteOne({ _id: challenge._id });
    if (!(await this.useOnce(useKey, userId, useExpiry))) {
      this.failed('reused_code', method, userId, client);
      throw new UnauthorizedException('Code already used');
    }
    await this.throttle.reset(challenge.email, ip);
    if (recoveryCodeId === undefined) return { user, credential, firstFactor };
    await this.recoveryCodes.deleteOne({ _id: recoveryCodeId });
    // The owner holds a recovery code: the account's wrong codes are forgiven.
    await this.budget.clear(userId);
    const remaining = await this.countRecoveryCodes(userId, factor.enrolment);
    await this.notify('recoveryCodeUsed', () => this.notices.recoveryCodeUsed(user, remaining));
    return { user, credential, firstFactor, recoveryCodesRemaining: remaining };
  }

  /**
   * A live login challenge (the mfaToken of a correct password), for a second step by another
   * factor (a passkey); null when unknown or expired, or with the factor switched off.
   */
  async pendingLogin(mfaToken: string): Promise<PendingMfaLogin | null> {
    if (!this.enabled) return null;
    const challenge = await this.challenges.findById(sha256(mfaToken));
    if (!challenge || challenge.expiresAt.getTime() <= Date.now()) return null;
    return {
      id: challenge._id,
      userId: challenge.user.toString(),
      email: challenge.email,
      credential: challenge.credential ?? null,
      firstFactor: challenge.firstFactor?.length ? challenge.firstFactor : ['pwd'],
      expiresAt: challenge.expiresAt,
    };
  }

  /** Uses the login challenge up, as a right code does: false when another request did first. */
  async spendLogin(pending: PendingMfaLogin): Promise<boolean> {
    if (!(await this.useOnce(`challenge:${pending.id}`, pending.userId, pending.expiresAt))) {
      return false;
    }
    await this.challenges.deleteOne({ _id: pending.id });
    return true;
  }

  /** A password reset by mail proves the owner: the account's wrong codes are forgiven. */
  async clearFailures(userId: string): Promise<void> {
    await this.budget.clear(userId);
  }

  // ---- helpers ----

  /**
   * A wrong code on a login challenge: the challenge dies with its last allowed failure, and
   * from MFA_NOTICE_AFTER_FAILURES wrong codes after a correct password on, the owner is told
   * (at most once an hour): someone may hold the password.
   */
  private async afterWrongLoginCode(
    user: AuthUserRecord,
    challengeId: string,
    failures: MfaFailureCounts,
  ): Promise<void> {
    if (failures.challenge >= MFA_CHALLENGE_MAX_FAILURES) {
      await this.challenges.deleteOne({ _id: challengeId });
    }
    if (failures.afterPassword < MFA_NOTICE_AFTER_FAILURES) return;
    if (!(await this.claimHourlyNotice(user.id))) return;
    await this.notify('secondFactorFailures', () =>
      this.notices.secondFactorFailures?.(user, failures.afterPassword),
    );
  }

  /**
   * True for one caller per account in any hour: a notice in hour h claims h and h+1 (inserts,
   * unique `_id`), and is sent only when both were free. Two notices therefore lie in hours at
   * least two apart (more than an hour), also when callers race on several instances.
   */
  private async claimHourlyNotice(userId: string): Promise<boolean> {
    const hour = Math.floor(Date.now() / HOUR_MS);
    for (const slot of [hour, hour + 1]) {
      const key = `notice:mfa-failures:${userId}:${slot}`;
      if (!(await this.useOnce(key, userId, new Date((slot + 1) * HOUR_MS)))) return false;
    }
    return true;
  }

  /** The TOTP code's single-use key, or null when it matches no step in the window. */
  private matchTotp(
    box: SecretBox,
    factor: MfaFactor,
    userId: string,
    code: string,
  ): CodeMatch | null {
    const step = this.matchCode(box, factor, userId, code);
    return step === null
      ? null
      : { useKey: `totp:${userId}:${step}`, useExpiry: this.stepExpiry() };
  }

  /** The recovery code's id and single-use key, or null when it is none of this enrolment's. */
  private async matchRecoveryCode(
    box: SecretBox,
    factor: MfaFactor,
    userId: string,
    given: string,
  ): Promise<CodeMatch | null> {
    const hash = box.digest(normalizeRecoveryCode(given));
    const code = await this.recoveryCodes.findById(hash);
    if (!code || code.user.toString() !== userId || code.enrolment !== factor.enrolment) {
      return null;
    }
    return { useKey: `recovery:${hash}`, useExpiry: null, recoveryCodeId: hash };
  }

  private requireEnabled(): SecretBox {
    // Switched off: the routes answer as if they did not exist.
    if (!this.enabled || !this.box) throw new NotFoundException();
    return this.box;
  }

  private totp(secret: Secret, label: string): TOTP {
    return new TOTP({
      issuer: this.issuer,
      label,
      algorithm: 'SHA1',
      digits: 6,
      period: TOTP_PERIOD_SECONDS,
      secret,
    });
  }

  /** The absolute time step the code belongs to, or null when it matches none in the window. */
  private matchCode(
    box: SecretBox,
    factor: MfaFactor,
    userId: string,
    code: string,
  ): number | null {
    const secret = Secret.fromBase32(box.open(factor.secret, userId));
    const totp = this.totp(secret, userId);
    const delta = totp.validate({ token: code, window: TOTP_WINDOW });
    return delta === null ? null : totp.counter() + delta;
  }

  /**
   * A signed-in user's code from their own factor (turning it off, an admin's reset of someone
   * else's): 400 when wrong or already used; its time step is used up.
   */
  private async useOwnCode(
    box: SecretBox,
    user: AuthUser,
    factor: MfaFactor,
    code: string,
  ): Promise<void> {
    // Within the account's daily cap like a login's code (429 past it).
    const outcome = await this.budget.run({ userId: user.id, kind: 'totp' }, () =>
      Promise.resolve(this.matchTotp(box, factor, user.id, code)),
    );
    if (!outcome.right) throw new BadRequestException('code is incorrect');
    if (!(await this.useOnce(outcome.value.useKey, user.id, outcome.value.useExpiry))) {
      throw new BadRequestException('code was already used');
    }
  }

  /** A used step cannot match once it is out of the window: its record may go then. */
  private stepExpiry(): Date {
    return new Date(Date.now() + (2 * TOTP_WINDOW + 2) * TOTP_PERIOD_SECONDS * 1000);
  }

  /** True for the one caller that records `key` first. */
  private async useOnce(key: string, userId: string, expiresAt: Date | null): Promise<boolean> {
    try {
      await this.used.create({ _id: key, user: userId, expiresAt });
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  /**
   * The password, checked like a login (a check the hashing queue refuses counts as no guess).
   * With `reset` false the attempt stays counted until the steps after it pass (`reset` then).
   */
  private async checkPassword(
    user: AuthUser,
    password: string,
    ip: string,
    reset = true,
  ): Promise<void> {
    const { attempt } = await checkAccountPassword(
      { passwords: this.passwords, throttle: this.throttle, users: this.users },
      user,
      password,
      ip,
    );
    if (reset) await this.throttle.reset(user.email, ip);
    else await this.throttle.failed(attempt);
  }

  private async issueRecoveryCodes(
    box: SecretBox,
    userId: string,
    enrolment: string,
  ): Promise<string[]> {
    await this.recoveryCodes.deleteMany({ user: userId });
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => {
      const chars = Array.from(
        { length: 10 },
        () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)],
      ).join('');
      return `${chars.slice(0, 5)}-${chars.slice(5)}`;
    });
    await this.recoveryCodes.insertMany(
      codes.map((code) => ({
        _id: box.digest(normalizeRecoveryCode(code)),
        user: userId,
        enrolment,
      })),
    );
    return codes;
  }

  private countRecoveryCodes(userId: string, enrolment: string): Promise<number> {
    return this.recoveryCodes.countDocuments({ user: userId, enrolment });
  }

  /** Factor, codes, use records and failures go; idempotent (also runs when the user is deleted). */
  private async forget(userId: string): Promise<void> {
    await this.factors.deleteOne({ _id: userId });
    await this.recoveryCodes.deleteMany({ user: userId });
    await this.used.deleteMany({ user: userId });
    await this.budget.clear(userId);
    await this.users.setMfaEnabled(userId, false).catch(() => undefined);
  }

  private failed(
    reason: SecondFactorFailureReason,
    method: SecondFactorMethod,
    subject: string | null,
    client: ClientInfo,
  ): void {
    this.audit.record('mfa.failed', { reason, method }, byAnonymous(subject, client));
  }

  private async notify(event: string, send: () => Promise<void> | void): Promise<void> {
    try {
      await send();
    } catch (error) {
      this.logger.error(`Security notice ${event} failed: ${(error as Error).message}`);
    }
  }

  private async purgeExpired(): Promise<void> {
    try {
      const now = trusted({ $lte: new Date() });
      await this.challenges.deleteMany({ expiresAt: now });
      await this.used.deleteMany({ expiresAt: now });
      await this.budget.purgeExpired();
    } catch (error) {
      this.logger.warn(`MFA purge failed: ${(error as Error).message}`);
    }
  }
}

/** The kit's own notices when it has a mailer: one message to the account's address each. */
function mailedNotices(mail: MailService): SecurityNotices {
  const product = mail.productName;
  return {
    recoveryCodeUsed: (user, remaining) =>
      mail.send(mails.recoveryCodeUsed(user.email, product, remaining)),
    mfaDisabled: (user, byAdmin) => mail.send(mails.mfaDisabled(user.email, product, byAdmin)),
    mfaEnabled: (user) => mail.send(mails.mfaEnabled(user.email, product)),
    secondFactorFailures: (user, failures) =>
      mail.send(mails.secondFactorFailures(user.email, product, failures)),
  };
}

import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  OnModuleInit,
} from '@nestjs/common';

import { checkAccountPassword } from '../account-password.js';
import { UserLifecycle } from '../accounts/user-lifecycle.service.js';
import type { AuthUserRecord } from '../accounts/users.service.js';
import { UsersService } from '../accounts/users.service.js';
import { AuditRecorder, byAnonymous, byUser } from '../audit/audit-recorder.service.js';
import type { AuthModuleOptions } from '../auth.options.js';
import { AUTH_OPTIONS } from '../auth.options.js';
import type { AuthUser } from '../core/auth-user.js';
import type { ClientInfo } from '../core/client-info.js';
import type { MailGrant } from '../mail/mail.service.js';
import { MailService } from '../mail/mail.service.js';
import { mails } from '../mail/mail-templates.js';
import { MfaService } from '../mfa/mfa.service.js';
import { PasswordService } from '../password.service.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { LoginThrottleService } from '../throttling/login-throttle.service.js';
import type { TokenPurpose } from './account-token.schema.js';
import type { ValidToken } from './account-tokens.service.js';
import { AccountTokensService, TOKEN_TTL_MS } from './account-tokens.service.js';
import type { AcceptedDto } from './dto/accepted.dto.js';
import type { ChangeEmailDto } from './dto/change-email.dto.js';
import { RecoveryThrottleService } from './recovery-throttle.service.js';

/** One answer for every unusable token: unknown, expired, used, superseded or of another kind. */
export const INVALID_LINK = 'This link is invalid or has expired; ask for a new one';

/** Link paths under PUBLIC_URL: the page there reads `token` and POSTs it to the API. */
export const LINK_PATHS = {
  resetPassword: '/reset-password',
  verifyEmail: '/verify-email',
  confirmEmailChange: '/confirm-email',
  login: '/login',
} as const;

export const ACCEPTED: Record<'forgot' | 'signup' | 'resend' | 'emailChange', AcceptedDto> = {
  forgot: {
    message: 'If an account uses this address, a link to reset its password has been sent to it.',
  },
  signup: { message: 'Check your inbox: we sent a link to this address to finish.' },
  resend: { message: 'If your address is not verified yet, a new link has been sent to it.' },
  emailChange: {
    message:
      'A confirmation link has been sent to the new address; the address changes when it is used.',
  },
};

/**
 * Password reset, email verification, email change and the security notices (OWASP Forgot
 * Password guidance, ASVS 5.0 6.3/6.4). Whatever depends on whether an account exists runs after
 * the response (MailService.defer), so answers and their timing are the same either way.
 */
@Injectable()
export class RecoveryService implements OnModuleInit {
  private readonly logger = new Logger(RecoveryService.name);
  readonly verificationRequired: boolean;

  constructor(
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly sessions: SessionsService,
    private readonly loginThrottle: LoginThrottleService,
    private readonly throttle: RecoveryThrottleService,
    private readonly tokens: AccountTokensService,
    private readonly mail: MailService,
    private readonly lifecycle: UserLifecycle,
    private readonly mfa: MfaService,
    private readonly audit: AuditRecorder,
    @Inject(AUTH_OPTIONS) options: AuthModuleOptions,
  ) {
    this.verificationRequired = options.requireVerifiedEmail === true;
    if (this.verificationRequired && !options.mail) {
      throw new Error('requireVerifiedEmail needs the mail option (SMTP_URL or the outbox)');
    }
  }

  onModuleInit(): void {
    // Links a session-holder set going (an email change, a verification) end with the sessions.
    this.sessions.onEndAll((userId) => this.tokens.revokePending(userId));
    if (!this.mail.enabled) {
      this.logger.warn('Mail is not configured: password reset and email verification are off');
      return;
    }
    this.lifecycle.register({
      userDisabledByAdmin: (userId) =>
        this.notify(userId, (user) => mails.accountDisabled(user.email, this.product)),
    });
  }

  private get product(): string {
    return this.mail.productName;
  }

  async forgotPassword(email: string, client: ClientInfo): Promise<AcceptedDto> {
    this.assertEnabled();
    const grant = await this.throttle.grant('password-reset', client.ip, email);
    this.mail.defer(async () => {
      const user = await this.users.findByEmail(email);
      // Unknown and disabled accounts get nothing; the answer was the same already.
      if (!user || !user.active) return;
      this.audit.record('password.reset_requested', {}, byAnonymous(user.id, client));
      const token = await this.tokens.issue(user, 'password-reset');
      const url = this.mail.link(LINK_PATHS.resetPassword, token);
      this.mail.sendRequested(
        grant,
        mails.passwordReset(user.email, this.product, url, TOKEN_TTL_MS['password-reset'] / 60_000),
      );
    });
    return ACCEPTED.forgot;
  }

  async resetPassword(token: string, newPassword: string, client: ClientInfo): Promise<void> {
    const { ip } = client;
    this.assertEnabled();
    await this.throttle.hit('password-reset-use', ip);
    const { user, record } = await this.usable(token, 'password-reset');
    await this.throttle.hit('password-reset-account', ip, user.email);
    // Before the token is used up: a refused password leaves the link working.
    this.passwords.assertAllowed(newPassword, 'newPassword');
    const passwordHash = await this.passwords.hash(newPassword);
    if (!(await this.tokens.consume(record.id))) throw new BadRequestException(INVALID_LINK);
    await this.users.setPasswordHash(user.id, passwordHash);
    await this.sessions.revokeAllForUser(user.id);
    // The mailbox proved the owner: wrong second-factor codes are forgiven (a cap reached by
    // someone who held the old password no longer blocks the owner's own codes).
    await this.mfa.clearFailures(user.id);
    // The link went to this address: it is the owner's.
    if (!user.emailVerified) await this.users.setEmailVerified(user.id);
    await this.tokens.revokeAll(user.id);
    // The mailed link proved the mailbox: the account's owner did it.
    this.audit.record('password.reset', {}, byUser(user, client));
    this.mail.send(mails.passwordWasReset(user.email, this.product));
  }

  /**
   * After signup: a verification link (nothing when mail is off, or when the address's signup
   * mail budget is spent: the signup itself succeeded, and resend sends a link later).
   */
  afterSignup(user: AuthUser): void {
    if (!this.mail.enabled) return;
    this.mail.defer(async () => {
      const grant = await this.throttle.grantQuietly('signup', user.email);
      if (grant) await this.sendVerification(user.id, grant);
    });
  }

  /**
   * Signup when verification is required: the same 202 for a new and a taken address; the owner
   * of a taken one is told someone tried (ASVS 5.0 6.3.8). Both paths hash the password once and
   * count against the address's mail budget first; over it nothing is mailed, and the answer is
   * the same 202.
   */
  async signupQuietly(email: string, create: () => Promise<AuthUser>): Promise<AcceptedDto> {
    const grant = await this.throttle.grantQuietly('signup', email);
    try {
      const user = await create();
      if (grant) this.mail.defer(() => this.sendVerification(user.id, grant));
    } catch (error) {
      if (!(error instanceof ConflictException)) throw error;
      if (grant) {
        this.mail.defer(async () => {
          const owner = await this.users.findByEmail(email);
          if (!owner || !owner.active) return;
          this.mail.sendRequested(
            grant,
            mails.signupExisting(owner.email, this.product, this.mail.link(LINK_PATHS.login)),
          );
        });
      }
    }
    return ACCEPTED.signup;
  }

  async resendVerification(user: AuthUser, client: ClientInfo): Promise<AcceptedDto> {
    this.assertEnabled();
    const grant = await this.throttle.grant('verify-email', client.ip, user.email);
    if (!user.emailVerified) {
      this.audit.record('email.verification_requested', {}, byUser(user, client));
      this.mail.defer(() => this.sendVerification(user.id, grant));
    }
    return ACCEPTED.resend;
  }

  async verifyEmail(token: string, client: ClientInfo): Promise<void> {
    this.assertEnabled();
    await this.throttle.hit('verify-email-use', client.ip);
    const { user, record } = await this.usable(token, 'verify-email');
    if (!(await this.tokens.consume(record.id))) throw new BadRequestException(INVALID_LINK);
    await this.users.setEmailVerified(user.id);
    this.audit.record('email.verified', {}, byUser(user, client));
  }

  /**
   * Checking the current password is a login by another door: same limits as a login. Then the
   * request is counted per client and per new address before that address is looked up, and the
   * answer is the same 202 whether it is taken or not: a free address gets the confirmation link,
   * a taken one's owner a notice that it is in use, and the current address hears of both alike.
   */
  async requestEmailChange(
    user: AuthUser,
    dto: ChangeEmailDto,
    client: ClientInfo,
  ): Promise<AcceptedDto> {
    const { ip } = client;
    this.assertEnabled();
    const checked = await checkAccountPassword(
      { passwords: this.passwords, throttle: this.loginThrottle, users: this.users },
      user,
      dto.currentPassword,
      ip,
      'currentPassword',
    );
    await this.loginThrottle.reset(user.email, ip);
    if (dto.newEmail === user.email) {
      throw new BadRequestException('newEmail is already the address of this account');
    }
    // Per new address too: nobody floods a stranger's mailbox, taken or not.
    const grant = await this.throttle.grant('email-change', ip, dto.newEmail);
    this.audit.record('email.change_requested', { newEmail: dto.newEmail }, byUser(user, client));
    this.mail.defer(async () => {
      const current = await this.users.findById(user.id);
      // The password checked above changed meanwhile: that change ended every link already.
      if (!current || !current.active || current.credentialVersion !== checked.credentialVersion) {
        return;
      }
      this.mail.send(mails.emailChangeRequested(current.email, this.product, dto.newEmail));
      if (await this.users.findByEmail(dto.newEmail)) {
        this.mail.sendRequested(grant, mails.emailInUse(dto.newEmail, this.product));
        return;
      }
      const token = await this.tokens.issue(
        current,
        'email-change',
        dto.newEmail,
        checked.credentialVersion,
      );
      const url = this.mail.link(LINK_PATHS.confirmEmailChange, token);
      this.mail.sendRequested(grant, mails.emailChangeConfirm(dto.newEmail, this.product, url));
    });
    return ACCEPTED.emailChange;
  }

  async confirmEmailChange(token: string, client: ClientInfo): Promise<void> {
    this.assertEnabled();
    await this.throttle.hit('email-change-use', client.ip);
    const { user, record } = await this.usable(token, 'email-change');
    const newEmail = record.newEmail;
    if (!newEmail) throw new BadRequestException(INVALID_LINK);
    // Checked before the token is used: a taken address leaves it unused (409, not 400).
    const owner = await this.users.findByEmail(newEmail);
    if (owner && owner.id !== user.id) throw new ConflictException('Email is already registered');
    if (!(await this.tokens.consume(record.id))) throw new BadRequestException(INVALID_LINK);
    await this.users.setEmail(user.id, newEmail);
    // Links mailed to the old address must not act on the account any more.
    await this.tokens.revokeAll(user.id);
    this.audit.record(
      'email.changed',
      { previousEmail: user.email, newEmail },
      byUser(user, client),
    );
    this.mail.send(mails.emailChanged(user.email, this.product, newEmail));
  }

  /** Notice after a password change by the owner; open reset links stop working. */
  async passwordChanged(user: AuthUser): Promise<void> {
    if (!this.mail.enabled) return;
    await this.tokens.revokeAll(user.id);
    this.mail.send(mails.passwordChanged(user.email, this.product));
  }

  private async sendVerification(userId: string, grant: MailGrant): Promise<void> {
    const user = await this.users.findById(userId);
    // Verified meanwhile, or the address changed since the request was counted for it.
    if (!user || !user.active || user.emailVerified || user.email !== grant.address) return;
    const token = await this.tokens.issue(user, 'verify-email');
    const url = this.mail.link(LINK_PATHS.verifyEmail, token);
    this.mail.sendRequested(grant, mails.verifyEmail(user.email, this.product, url));
  }

  private notify(
    userId: string,
    build: (user: AuthUserRecord) => ReturnType<typeof mails.accountDisabled>,
  ): void {
    this.mail.defer(async () => {
      const user = await this.users.findById(userId);
      if (user) this.mail.send(build(user));
    });
  }

  /** The account a token may act on now, or the one generic 400. */
  private async usable(
    token: string,
    purpose: TokenPurpose,
  ): Promise<{ user: AuthUserRecord; record: ValidToken }> {
    const record = await this.tokens.find(token, purpose);
    const user = record ? await this.users.findById(record.userId) : null;
    if (
      !record ||
      !user ||
      !user.active ||
      // Issued to another address than the account's current one.
      user.email !== record.email ||
      // Issued under another password (a change or reset since, however late it was written).
      user.credentialVersion !== record.credential ||
      // The password changed after the link was mailed (another reset, or a change).
      (user.passwordChangedAt !== null &&
        user.passwordChangedAt.getTime() > record.createdAt.getTime())
    ) {
      throw new BadRequestException(INVALID_LINK);
    }
    return { user, record };
  }

  private assertEnabled(): void {
    if (!this.mail.enabled) throw new NotFoundException('Account mail is not enabled');
  }
}

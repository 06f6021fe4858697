import { ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';

import { checkAccountPassword } from './account-password.js';
import { UsersService } from './accounts/users.service.js';
import type { AuditParties } from './audit/audit-recorder.service.js';
import { AuditRecorder, byAnonymous, byUser } from './audit/audit-recorder.service.js';
import type { AuthModuleOptions } from './auth.options.js';
import { AUTH_OPTIONS } from './auth.options.js';
import type { AuthUser } from './core/auth-user.js';
import type { ClientInfo } from './core/client-info.js';
import type { ChangePasswordDto } from './dto/change-password.dto.js';
import type { JwksDto } from './dto/jwks.dto.js';
import type { LoginDto } from './dto/login.dto.js';
import type { SignupDto } from './dto/signup.dto.js';
import type { AccessTokenDto, TokenResponseDto } from './dto/token-response.dto.js';
import type { MfaChallengeDto, MfaLoginDto, MfaTokenResponseDto } from './mfa/dto/mfa.dto.js';
import { MfaService } from './mfa/mfa.service.js';
import type { ReservedPasswordCheck } from './password.service.js';
import { PasswordService } from './password.service.js';
import type { IssuedRefresh, SessionAuthenticationView } from './sessions/sessions.service.js';
import { SessionsService } from './sessions/sessions.service.js';
import type { LoginAttempt } from './throttling/login-throttle.service.js';
import {
  LoginThrottleService,
  TooManyLoginAttemptsException,
} from './throttling/login-throttle.service.js';
import type { TokenKeys } from './token-keys.js';
import { TOKEN_KEYS } from './token-keys.js';

/** One body for every failed credential check, so responses do not reveal which part was wrong. */
export const INVALID_CREDENTIALS = 'Invalid email or password';

@Injectable()
export class AuthService {
  private readonly accessTtlSeconds: number;

  constructor(
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly sessions: SessionsService,
    private readonly throttle: LoginThrottleService,
    private readonly jwt: JwtService,
    private readonly mfa: MfaService,
    private readonly audit: AuditRecorder,
    @Inject(TOKEN_KEYS) private readonly keys: TokenKeys,
    @Inject(AUTH_OPTIONS) options: AuthModuleOptions,
  ) {
    this.accessTtlSeconds = options.jwt.accessTtlSeconds ?? 900;
  }

  /** `admitted`: the place the request took in the hashing queue as it arrived, if any. */
  async signup(
    dto: SignupDto,
    client: ClientInfo,
    admitted?: ReservedPasswordCheck,
  ): Promise<AuthUser> {
    this.passwords.assertAllowed(dto.password, 'password');
    const passwordHash = await (admitted ?? this.passwords.reserveCheck()).hash(dto.password);
    const {
      passwordChangedAt: _changedAt,
      credentialVersion: _version,
      ...user
    } = await this.users.create({
      email: dto.email,
      name: dto.name,
      passwordHash,
    });
    this.audit.record('user.signed_up', { method: 'pwd' }, byUser(user, client));
    return user;
  }

  /**
   * The attempt is counted (and limited) before the password is checked, stays counted as a
   * failure unless it succeeds, and the unknown-email path costs one bcrypt too. With a second
   * factor on, the answer is a challenge instead of a session, and the attempt stays counted
   * until the code is right: password and codes share one budget. The session (or challenge)
   * is bound to the credential version read with the hash: if the password changes while this
   * runs, it is refused on every use. `admitted`: the place the request took in the hashing queue
   * as it arrived (admitPasswordCheck), if any; a client that leaves while its check waits has it
   * dropped unrun (and its attempt uncounted).
   */
  async login(
    dto: LoginDto,
    client: ClientInfo,
    admitted?: ReservedPasswordCheck,
  ): Promise<TokenResponseDto | MfaChallengeDto> {
    // A login the hashing queue cannot take in time is refused before anything is spent on it
    // (nothing read, nothing counted): under a storm the refusals stay cheap.
    const check = admitted ?? this.passwords.reserveCheck();
    const { attempt, found, valid } = await this.checkLogin(dto, client, check).finally(() =>
      check.release(),
    );
    if (!found || !valid) {
      await this.throttle.failed(attempt);
      const reason = found ? 'wrong_password' : 'unknown_account';
      this.audit.record(
        'login.failed',
        { reason, email: dto.email },
        byAnonymous(found?.user.id ?? null, client),
      );
      throw new UnauthorizedException(INVALID_CREDENTIALS);
    }
    if (found.user.active && (await this.mfa.isRequired(found.user.id))) {
      // Counted as a failure until the code is right (MfaService clears it then).
      await this.throttle.failed(attempt);
      this.audit.record('mfa.required', {}, byAnonymous(found.user.id, client));
      return this.mfa.challenge(found.user, dto.email);
    }
    await this.throttle.succeeded(attempt);
    if (!found.user.active) {
      this.audit.record(
        'login.failed',
        { reason: 'disabled', email: dto.email },
        byAnonymous(found.user.id, client),
      );
      throw new ForbiddenException('This account is disabled');
    }
    const issued = await this.sessions.create(
      found.user.id,
      { credential: found.user.credentialVersion, methods: ['pwd'] },
      client,
    );
    this.audit.record('login.succeeded', { secondFactor: null }, this.loggedIn(issued, client));
    return this.tokens(issued);
  }

  /** Admits the attempt, reads the account and checks the password in the reserved place. */
  private async checkLogin(dto: LoginDto, client: ClientInfo, check: ReservedPasswordCheck) {
    const attempt = await this.admitLogin(dto.email, client);
    const found = await this.users.findByEmailWithHash(dto.email);
    const hash = found?.passwordHash;
    const valid = await this.throttle.settledBy(attempt, () => check.verify(dto.password, hash));
    return { attempt, found, valid };
  }

  /** The second step of a login with a second factor. */
  async loginWithSecondFactor(dto: MfaLoginDto, client: ClientInfo): Promise<MfaTokenResponseDto> {
    const { user, credential, firstFactor, recoveryCodesRemaining } = await this.mfa.finishLogin(
      dto,
      client,
    );
    // Bound to the password check (or provider sign-in) of the first step, as the challenge was;
    // a TOTP code or a recovery code after it: two factors.
    const issued = await this.sessions.create(
      user.id,
      { credential, methods: [...firstFactor, 'otp', 'mfa'] },
      client,
    );
    const parties = this.loggedIn(issued, client);
    const method = recoveryCodesRemaining === undefined ? 'totp' : 'recovery_code';
    this.audit.record('mfa.succeeded', { method }, parties);
    if (recoveryCodesRemaining !== undefined) {
      this.audit.record('mfa.recovery_code_used', { remaining: recoveryCodesRemaining }, parties);
    }
    this.audit.record('login.succeeded', { secondFactor: method }, parties);
    const tokens = await this.tokens(issued);
    return recoveryCodesRemaining === undefined ? tokens : { ...tokens, recoveryCodesRemaining };
  }

  async refresh(refreshToken: string, client: ClientInfo): Promise<TokenResponseDto> {
    const issued = await this.sessions.rotate(refreshToken, client);
    const user = await this.users.findById(issued.userId);
    // A session opened with a password since changed (a login that raced the change) ends here.
    if (!user || !user.active || user.credentialVersion !== issued.credential) {
      await this.sessions.revoke(issued.sessionId, issued.userId);
      throw new UnauthorizedException('Invalid or expired refresh token');
    }
    return this.tokens(issued);
  }

  async logout(refreshToken: string, client: ClientInfo): Promise<void> {
    const session = await this.sessions.findByToken(refreshToken);
    if (!session) throw new UnauthorizedException('Invalid or expired refresh token');
    await this.sessions.revoke(session.sessionId, session.userId);
    this.audit.record('session.logged_out', {}, this.loggedIn(session, client));
  }

  async logoutAll(user: AuthUser, client: ClientInfo): Promise<void> {
    await this.sessions.revokeAllForUser(user.id);
    this.audit.record('session.logged_out_all', {}, byUser(user, client));
  }

  /** Checking the current password is a login by another door: it counts against the same limits. */
  async changePassword(user: AuthUser, dto: ChangePasswordDto, client: ClientInfo): Promise<void> {
    this.passwords.assertAllowed(dto.newPassword, 'newPassword');
    const { attempt } = await checkAccountPassword(
      { passwords: this.passwords, throttle: this.throttle, users: this.users },
      user,
      dto.currentPassword,
      client.ip,
      'currentPassword',
    );
    await this.throttle.succeeded(attempt);
    await this.users.setPasswordHash(user.id, await this.passwords.hash(dto.newPassword));
    await this.sessions.revokeAllForUser(user.id);
    this.audit.record('password.changed', {}, byUser(user, client));
  }

  jwks(): JwksDto {
    if (this.keys.algorithm === 'HS256') return { keys: [] };
    const jwk = this.keys.verifyKey.export({ format: 'jwk' });
    return { keys: [{ ...jwk, kid: this.keys.keyId, alg: this.keys.algorithm, use: 'sig' }] };
  }

  /**
   * Admits the attempt (see LoginThrottleService.recordAttempt). A refused one is recorded with
   * the account it was aimed at, looked up beside the 429 rather than before it.
   */
  private async admitLogin(email: string, client: ClientInfo): Promise<LoginAttempt> {
    try {
      return await this.throttle.recordAttempt(email, client.ip);
    } catch (error) {
      if (error instanceof TooManyLoginAttemptsException) {
        void this.users
          .findByEmail(email)
          .then(
            (user) => user?.id ?? null,
            () => null,
          )
          .then((subject) =>
            this.audit.record(
              'login.failed',
              { reason: 'throttled', email },
              byAnonymous(subject, client),
            ),
          );
      }
      throw error;
    }
  }

  /** The account that holds `session` now. */
  private loggedIn(
    session: { sessionId: string; userId: string },
    client: ClientInfo,
  ): AuditParties {
    return { actor: session.userId, subject: session.userId, session: session.sessionId, client };
  }

  private async tokens(issued: IssuedRefresh): Promise<TokenResponseDto> {
    return {
      ...(await this.accessToken(issued.userId, issued.sessionId, issued.authentication)),
      refreshToken: issued.refreshToken,
    };
  }

  /**
   * An access token for the session, carrying when and how it last authenticated its user
   * (`auth_time`, `amr`: RFC 9068 §2.2.1, RFC 8176) for recent-authentication checks.
   */
  async accessToken(
    userId: string,
    sessionId: string,
    authentication: SessionAuthenticationView,
  ): Promise<AccessTokenDto> {
    const accessToken = await this.jwt.signAsync({
      sub: userId,
      sid: sessionId,
      auth_time: Math.floor(authentication.at.getTime() / 1000),
      amr: authentication.methods,
    });
    return { accessToken, tokenType: 'Bearer', expiresIn: this.accessTtlSeconds };
  }
}

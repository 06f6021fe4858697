import {
  BadRequestException,
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';

import { UsersService } from './accounts/users.service.js';
import type { AuthModuleOptions } from './auth.options.js';
import { AUTH_OPTIONS } from './auth.options.js';
import type { AuthUser } from './core/auth-user.js';
import type { ChangePasswordDto } from './dto/change-password.dto.js';
import type { JwksDto } from './dto/jwks.dto.js';
import type { LoginDto } from './dto/login.dto.js';
import type { SignupDto } from './dto/signup.dto.js';
import type { TokenResponseDto } from './dto/token-response.dto.js';
import type { MfaChallengeDto, MfaLoginDto, MfaTokenResponseDto } from './mfa/dto/mfa.dto.js';
import { MfaService } from './mfa/mfa.service.js';
import { PasswordService } from './password.service.js';
import type { IssuedRefresh } from './sessions/sessions.service.js';
import { SessionsService } from './sessions/sessions.service.js';
import { LoginThrottleService } from './throttling/login-throttle.service.js';
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
    @Inject(TOKEN_KEYS) private readonly keys: TokenKeys,
    @Inject(AUTH_OPTIONS) options: AuthModuleOptions,
  ) {
    this.accessTtlSeconds = options.jwt.accessTtlSeconds ?? 900;
  }

  async signup(dto: SignupDto): Promise<AuthUser> {
    this.passwords.assertAllowed(dto.password, 'password');
    const passwordHash = await this.passwords.hash(dto.password);
    const {
      passwordChangedAt: _changedAt,
      credentialVersion: _version,
      ...user
    } = await this.users.create({
      email: dto.email,
      name: dto.name,
      passwordHash,
    });
    return user;
  }

  /**
   * The attempt is counted (and limited) before the password is checked, stays counted as a
   * failure unless it succeeds, and the unknown-email path costs one bcrypt too. With a second
   * factor on, the answer is a challenge instead of a session, and the attempt stays counted
   * until the code is right: password and codes share one budget. The session (or challenge)
   * is bound to the credential version read with the hash: if the password changes while this
   * runs, it is refused on every use.
   */
  async login(
    dto: LoginDto,
    ip: string,
    userAgent?: string,
  ): Promise<TokenResponseDto | MfaChallengeDto> {
    const attempt = await this.throttle.recordAttempt(dto.email, ip);
    const found = await this.users.findByEmailWithHash(dto.email);
    const valid = await this.passwords.verify(dto.password, found?.passwordHash);
    if (!found || !valid) {
      await this.throttle.failed(attempt);
      throw new UnauthorizedException(INVALID_CREDENTIALS);
    }
    if (found.user.active && (await this.mfa.isRequired(found.user.id))) {
      // Counted as a failure until the code is right (MfaService clears it then).
      await this.throttle.failed(attempt);
      return this.mfa.challenge(found.user, dto.email);
    }
    await this.throttle.succeeded(attempt);
    if (!found.user.active) throw new ForbiddenException('This account is disabled');
    const issued = await this.sessions.create(found.user.id, found.user.credentialVersion, {
      ip,
      userAgent,
    });
    return this.tokens(issued);
  }

  /** The second step of a login with a second factor. */
  async loginWithSecondFactor(
    dto: MfaLoginDto,
    ip: string,
    userAgent?: string,
  ): Promise<MfaTokenResponseDto> {
    const { user, credential, recoveryCodesRemaining } = await this.mfa.finishLogin(dto, ip);
    // Bound to the password check of the first step, as the challenge was.
    const issued = await this.sessions.create(user.id, credential, { ip, userAgent });
    const tokens = await this.tokens(issued);
    return recoveryCodesRemaining === undefined ? tokens : { ...tokens, recoveryCodesRemaining };
  }

  async refresh(refreshToken: string): Promise<TokenResponseDto> {
    const issued = await this.sessions.rotate(refreshToken);
    const user = await this.users.findById(issued.userId);
    // A session opened with a password since changed (a login that raced the change) ends here.
    if (!user || !user.active || user.credentialVersion !== issued.credential) {
      await this.sessions.revoke(issued.sessionId, issued.userId);
      throw new UnauthorizedException('Invalid or expired refresh token');
    }
    return this.tokens(issued);
  }

  async logout(refreshToken: string): Promise<void> {
    const session = await this.sessions.findByToken(refreshToken);
    if (!session) throw new UnauthorizedException('Invalid or expired refresh token');
    await this.sessions.revoke(session.sessionId, session.userId);
  }

  logoutAll(user: AuthUser): Promise<void> {
    return this.sessions.revokeAllForUser(user.id);
  }

  /** Checking the current password is a login by another door: it counts against the same limits. */
  async changePassword(user: AuthUser, dto: ChangePasswordDto, ip: string): Promise<void> {
    this.passwords.assertAllowed(dto.newPassword, 'newPassword');
    const attempt = await this.throttle.recordAttempt(user.email, ip);
    const hash = await this.users.getPasswordHash(user.id);
    if (!hash || !(await this.passwords.verify(dto.currentPassword, hash))) {
      await this.throttle.failed(attempt);
      throw new BadRequestException('currentPassword is incorrect');
    }
    await this.throttle.succeeded(attempt);
    await this.users.setPasswordHash(user.id, await this.passwords.hash(dto.newPassword));
    await this.sessions.revokeAllForUser(user.id);
  }

  jwks(): JwksDto {
    if (this.keys.algorithm === 'HS256') return { keys: [] };
    const jwk = this.keys.verifyKey.export({ format: 'jwk' });
    return { keys: [{ ...jwk, kid: this.keys.keyId, alg: this.keys.algorithm, use: 'sig' }] };
  }

  private async tokens(issued: IssuedRefresh): Promise<TokenResponseDto> {
    const accessToken = await this.jwt.signAsync({ sub: issued.userId, sid: issued.sessionId });
    return {
      accessToken,
      refreshToken: issued.refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.accessTtlSeconds,
    };
  }
}

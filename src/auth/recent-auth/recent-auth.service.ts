import { BadRequestException, Injectable, UnauthorizedException } from '@nestjs/common';

import { checkAccountPassword } from '../account-password.js';
import { UsersService } from '../accounts/users.service.js';
import { AuditRecorder, byUser } from '../audit/audit-recorder.service.js';
import { AuthService } from '../auth.service.js';
import type { AuthMethod } from '../core/auth-methods.js';
import type { AuthUser } from '../core/auth-user.js';
import type { ClientInfo } from '../core/client-info.js';
import type { AccessTokenDto } from '../dto/token-response.dto.js';
import { MfaService } from '../mfa/mfa.service.js';
import { PasskeysService } from '../passkeys/passkeys.service.js';
import { PasswordService } from '../password.service.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { LoginThrottleService } from '../throttling/login-throttle.service.js';
import type { ReauthenticateDto } from './dto/reauthenticate.dto.js';

/**
 * Step-up authentication (RFC 9470): the signed-in user proves who they are again, and the
 * session's `auth_time` moves to now. Every proof is checked like a login attempt (same limits).
 */
@Injectable()
export class RecentAuthService {
  constructor(
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly throttle: LoginThrottleService,
    private readonly mfa: MfaService,
    private readonly sessions: SessionsService,
    private readonly auth: AuthService,
    private readonly audit: AuditRecorder,
    private readonly passkeys: PasskeysService,
  ) {}

  async reauthenticate(
    user: AuthUser,
    dto: ReauthenticateDto,
    client: ClientInfo,
  ): Promise<AccessTokenDto> {
    const { ip } = client;
    const proofs = [dto.password, dto.code, dto.passkey].filter((p) => p !== undefined);
    if (proofs.length !== 1) {
      throw new BadRequestException('Send one of password, code or passkey');
    }
    // Only a session can be re-authenticated (every access token has one).
    if (user.sessionId === undefined) throw new UnauthorizedException();
    const methods: AuthMethod[] = [];
    if (dto.password !== undefined) {
      await this.checkPassword(user, dto.password, ip);
      methods.push('pwd');
    } else if (dto.code !== undefined) {
      await this.mfa.checkCode(user, dto.code, ip);
      methods.push('otp');
    } else if (dto.passkey !== undefined) {
      methods.push(...(await this.passkeys.reauthenticate(user, dto.passkey, client)));
    }
    const authentication = await this.sessions.reauthenticated(user.sessionId, user.id, methods);
    this.audit.record('session.reauthenticated', { methods }, byUser(user, client));
    return this.auth.accessToken(user.id, user.sessionId, authentication);
  }

  private async checkPassword(user: AuthUser, password: string, ip: string): Promise<void> {
    const { attempt } = await checkAccountPassword(
      { passwords: this.passwords, throttle: this.throttle, users: this.users },
      user,
      password,
      ip,
    );
    await this.throttle.succeeded(attempt);
  }
}

import { ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { OBJECT_ID_PATTERN } from '../common/pipes/parse-object-id.pipe.js';
import { UsersService } from '../users/users.service.js';
import type { AuthUser } from './auth-user.js';

export interface AccessTokenPayload {
  sub: string;
  sid?: string;
  iat: number;
  exp: number;
  iss: string;
  aud: string;
}

/**
 * Turns a verified access token into the user for this request, re-checking the account every
 * time: deleted → 401, token older than the last password change → 401, disabled → 403.
 */
@Injectable()
export class PrincipalService {
  constructor(private readonly users: UsersService) {}

  async resolve(payload: AccessTokenPayload): Promise<AuthUser> {
    if (typeof payload.sub !== 'string' || !OBJECT_ID_PATTERN.test(payload.sub)) {
      throw new UnauthorizedException();
    }
    const user = await this.users.findById(payload.sub);
    if (!user) throw new UnauthorizedException();
    if (user.passwordChangedAt && payload.iat * 1000 < user.passwordChangedAt.getTime()) {
      throw new UnauthorizedException();
    }
    if (!user.active) throw new ForbiddenException('This account is disabled');
    const { passwordChangedAt: _ignored, ...authUser } = user;
    return authUser;
  }
}

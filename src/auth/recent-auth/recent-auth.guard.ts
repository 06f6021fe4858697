import { ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';

import type { AuthModuleOptions } from '../auth.options.js';
import { AUTH_OPTIONS } from '../auth.options.js';
import type { AuthRequest } from '../core/auth-user.js';
import { RECENT_AUTH_KEY } from '../core/decorators/recent-auth.decorator.js';
import { handlerMetadata } from '../core/route-metadata.js';

/** 401 asking for a fresh authentication (RFC 9470 §3), with the header that says so. */
export class InsufficientUserAuthenticationException extends UnauthorizedException {
  readonly wwwAuthenticate: string;

  constructor(maxAgeSeconds: number) {
    super({
      statusCode: 401,
      error: 'Unauthorized',
      message: `This action needs an authentication in the last ${maxAgeSeconds} seconds: re-authenticate with POST /api/auth/reauthenticate`,
    });
    this.wwwAuthenticate =
      'Bearer error="insufficient_user_authentication", ' +
      'error_description="A more recent authentication is required", ' +
      `max_age=${maxAgeSeconds}`;
  }
}

/**
 * `@RecentAuth()` routes: the access token's `auth_time` must be at most
 * `recentAuthMaxAgeSeconds` old. Runs after authentication and roles (a caller without the role
 * is told 403, not asked to re-authenticate).
 */
@Injectable()
export class RecentAuthGuard {
  readonly maxAgeSeconds: number;

  constructor(
    private readonly reflector: Reflector,
    @Inject(AUTH_OPTIONS) options: AuthModuleOptions,
  ) {
    this.maxAgeSeconds = options.recentAuthMaxAgeSeconds ?? 300;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!handlerMetadata<boolean>(this.reflector, RECENT_AUTH_KEY, context)) return true;
    const { user } = context.switchToHttp().getRequest<AuthRequest>();
    if (!user) throw new UnauthorizedException();
    if (!this.isRecent(user.authTime)) {
      throw new InsufficientUserAuthenticationException(this.maxAgeSeconds);
    }
    return true;
  }

  /** `authTime` (ms) lies within the allowed age; a token without one never counts as recent. */
  isRecent(authTime: number | undefined, now = Date.now()): boolean {
    return authTime !== undefined && now - authTime <= this.maxAgeSeconds * 1000;
  }
}

import { ExecutionContext, ForbiddenException, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';

import type { AuthModuleOptions } from '../auth.options.js';
import { AUTH_OPTIONS } from '../auth.options.js';
import type { AuthRequest } from '../core/auth-user.js';
import { ALLOW_UNVERIFIED_KEY } from '../core/decorators/allow-unverified.decorator.js';
import { IS_PUBLIC_KEY } from '../core/decorators/public.decorator.js';
import { routeMetadata } from '../core/route-metadata.js';

export const EMAIL_NOT_VERIFIED =
  'Verify your email address first: use the link mailed to you, or ask for a new one with POST /api/auth/email/resend';

/**
 * With `requireVerifiedEmail`, an account whose address is not verified gets 403 on every route
 * except public ones and those marked `@AllowUnverified()`. Runs after authentication. An
 * `@OptionalAuth()` route is refused too when the caller sends a token (it may call it without).
 */
@Injectable()
export class VerifiedEmailGuard {
  private readonly required: boolean;

  constructor(
    private readonly reflector: Reflector,
    @Inject(AUTH_OPTIONS) options: AuthModuleOptions,
  ) {
    this.required = options.requireVerifiedEmail === true;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.required || context.getType() !== 'http') return true;
    const user = context.switchToHttp().getRequest<AuthRequest>().user;
    if (!user || user.emailVerified) return true;
    for (const key of [ALLOW_UNVERIFIED_KEY, IS_PUBLIC_KEY]) {
      if (routeMetadata<boolean>(this.reflector, key, context)) return true;
    }
    throw new ForbiddenException(EMAIL_NOT_VERIFIED);
  }
}

import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';

import type { AuthRequest } from '../core/auth-user.js';
import { OPTIONAL_AUTH_KEY } from '../core/decorators/optional-auth.decorator.js';
import { IS_PUBLIC_KEY } from '../core/decorators/public.decorator.js';

/**
 * Authenticates every route unless it is `@Public()`. `@OptionalAuth()` routes authenticate only
 * when an Authorization header is present. Metadata is read handler-first, so a method overrides
 * its class.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets)) return true;
    if (this.reflector.getAllAndOverride<boolean>(OPTIONAL_AUTH_KEY, targets)) {
      const request = context.switchToHttp().getRequest<AuthRequest>();
      if (request.headers.authorization === undefined) return true;
    }
    return super.canActivate(context);
  }
}

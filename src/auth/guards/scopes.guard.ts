import { CanActivate, ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';

import type { AuthRequest } from '../core/auth-user.js';
import { SCOPES_KEY } from '../core/decorators/scopes.decorator.js';
import { routeMetadata } from '../core/route-metadata.js';
import type { ApiKeyScope } from '../core/scopes.js';

/** 403 with RFC 6750's `insufficient_scope`, so a client can tell it from a role refusal. */
export class InsufficientScopeException extends ForbiddenException {
  readonly wwwAuthenticate: string;

  constructor(message: string, scopes: readonly ApiKeyScope[]) {
    super(message);
    this.wwwAuthenticate =
      scopes.length > 0
        ? `Bearer error="insufficient_scope", scope="${scopes.join(' ')}"`
        : 'Bearer error="insufficient_scope"';
  }
}

export const CLOSED_TO_API_KEYS = 'This route does not accept API keys: sign in instead';

/**
 * Requests made with an API key reach only routes that declare a scope the key holds (`@Scopes`);
 * a route that declares none is closed to keys (deny by default). Access tokens are not affected.
 */
@Injectable()
export class ScopesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const { user } = context.switchToHttp().getRequest<AuthRequest>();
    if (!user?.apiKey) return true;
    const required = routeMetadata<ApiKeyScope[]>(this.reflector, SCOPES_KEY, context);
    if (!required || required.length === 0)
      throw new InsufficientScopeException(CLOSED_TO_API_KEYS, []);
    if (!required.some((scope) => user.apiKey?.scopes.includes(scope))) {
      throw new InsufficientScopeException(
        `This API key needs the scope ${required.join(' or ')}`,
        required,
      );
    }
    return true;
  }
}

import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';

import { looksLikeApiKey } from '../api-keys/api-key-format.js';
import { ApiKeyPrincipal } from '../api-keys/api-key-principal.service.js';
import type { AuthRequest } from '../core/auth-user.js';
import { OPTIONAL_AUTH_KEY } from '../core/decorators/optional-auth.decorator.js';
import { IS_PUBLIC_KEY } from '../core/decorators/public.decorator.js';
import { routeMetadata } from '../core/route-metadata.js';
import { JwtStrategy } from '../strategies/jwt.strategy.js';
import { clientAddress } from '../throttling/client-key.js';

/** What Fastify and Express requests both carry, for the client's address. */
interface ClientRequest extends AuthRequest {
  ip?: string;
  socket?: { remoteAddress?: string };
}

const BEARER = /^Bearer ([^\s]+)$/i;

/**
 * Authenticates every route unless it is `@Public()`. `@OptionalAuth()` routes authenticate only
 * when an Authorization header is present. Metadata is read handler-first, so a method overrides
 * its class. A bearer credential starting with `gdk_` is an API key (ApiKeyPrincipal) and never
 * reaches the JWT parser; anything else is an access token (JwtStrategy).
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeyPrincipal,
    private readonly jwt: JwtStrategy,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (routeMetadata<boolean>(this.reflector, IS_PUBLIC_KEY, context)) return true;
    const http = context.switchToHttp();
    const request = http.getRequest<ClientRequest>();
    const { authorization } = request.headers;
    if (routeMetadata<boolean>(this.reflector, OPTIONAL_AUTH_KEY, context)) {
      if (authorization === undefined) return true;
    }
    const credential = typeof authorization === 'string' ? BEARER.exec(authorization)?.[1] : null;
    if (credential && looksLikeApiKey(credential)) {
      const ip = clientAddress(request.ip, request.socket?.remoteAddress);
      const agent = request.headers['user-agent'];
      const userAgent = typeof agent === 'string' ? agent : undefined;
      return this.apiKeys.authenticate(credential, { ip, userAgent }).then((user) => {
        request.user = user;
        return true;
      });
    }
    return this.jwt.authenticateRequest(request, http.getResponse<object>()).then((user) => {
      request.user = user;
      return true;
    });
  }
}

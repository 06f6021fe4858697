import type { IncomingMessage, ServerResponse } from 'node:http';

import {
  applyDecorators,
  createParamDecorator,
  ExecutionContext,
  SetMetadata,
  UseInterceptors,
} from '@nestjs/common';
import { ApiServiceUnavailableResponse } from '@nestjs/swagger';

import { AuthErrorHeadersInterceptor } from './interceptors/auth-error-headers.interceptor.js';
import type { PasswordService, ReservedPasswordCheck } from './password.service.js';

/**
 * Where Nest's Fastify adapter reads a route's Fastify `config` (@nestjs/platform-fastify's
 * FASTIFY_ROUTE_CONFIG_METADATA, the key behind its `@RouteConfig()`): spelled out here because
 * the kit does not depend on a platform. Other platforms ignore it.
 */
const FASTIFY_ROUTE_CONFIG = '__fastify_route_config__';

/**
 * How a host's first hook treats a request to a `@PasswordCheck()` route, from the route's Fastify
 * config (request.routeOptions.config): `'admit'` takes the request's place in the hashing queue
 * (admitPasswordCheck), `'room'` only checks there is room (PasswordService.assertHashingCapacity),
 * undefined for any other route. Either refuses with 503 before anything else is spent on the
 * request, such as a per-IP limit counted in the database.
 */
export function passwordCheckAdmission(config: unknown): 'admit' | 'room' | undefined {
  if (typeof config !== 'object' || config === null || !('passwordCheck' in config)) {
    return undefined;
  }
  return config.passwordCheck === 'admit' ? 'admit' : 'room';
}

/** Places taken at the door (admitPasswordCheck), by Node's request, until the route takes them. */
const admitted = new WeakMap<IncomingMessage, ReservedPasswordCheck>();

/**
 * Takes this request's place in the hashing queue as it arrives (503 at once when the queue is
 * full), for the route to use through `@AdmittedPasswordCheck()`. The place is given back when
 * the answer has gone without a check; if the client closes its connection first, the check is
 * dropped unrun (no one would read its answer).
 */
export function admitPasswordCheck(
  passwords: PasswordService,
  request: IncomingMessage,
  response: ServerResponse,
): void {
  const connection = new AbortController();
  const check = passwords.reserveCheck(connection.signal);
  admitted.set(request, check);
  response.once('close', () => {
    if (!response.writableFinished) connection.abort();
    check.release();
  });
}

/** Fastify's request wraps Node's (`raw`); Express's request is Node's. */
type PlatformRequest = IncomingMessage | { raw: IncomingMessage };

/**
 * The place admitPasswordCheck took for this request, or undefined when no door took one (the
 * route then reserves its own).
 */
export const AdmittedPasswordCheck = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): ReservedPasswordCheck | undefined => {
    const request = ctx.switchToHttp().getRequest<PlatformRequest>();
    return admitted.get('raw' in request ? request.raw : request);
  },
);

/**
 * A route that hashes or checks a password: its check waits in the hashing queue (see
 * PasswordService), so it may answer 503 with Retry-After when the queue is full. Declares that
 * answer and sets the header on it. `admit`: the route takes its place from the door
 * (`@AdmittedPasswordCheck()`), as the public login and signup do.
 */
export function PasswordCheck(options: { admit?: boolean } = {}): MethodDecorator {
  return applyDecorators(
    SetMetadata(FASTIFY_ROUTE_CONFIG, { passwordCheck: options.admit ? 'admit' : 'room' }),
    UseInterceptors(AuthErrorHeadersInterceptor),
    ApiServiceUnavailableResponse({
      description:
        'Too many password checks are waiting (the answer comes at once, see Retry-After; not ' +
        'counted as a failed login), or the database is unavailable',
      headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } },
    }),
  );
}

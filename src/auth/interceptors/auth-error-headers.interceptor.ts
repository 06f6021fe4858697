import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { HttpException, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Observable } from 'rxjs';
import { catchError, throwError } from 'rxjs';

/**
 * The headers that belong to the kit's own error answers: `WWW-Authenticate: Bearer` with a 401
 * (RFC 6750; with the challenge of RFC 9470 when a more recent authentication is needed) and `Retry-After` with a throttled login (an exception carrying `retryAfterSeconds`).
 * Set through Nest's HTTP adapter, so they work on Express and Fastify alike and do not depend on
 * the host's exception filter.
 */
export function setAuthErrorHeaders(
  adapterHost: HttpAdapterHost,
  context: ExecutionContext,
  error: unknown,
): void {
  if (context.getType() !== 'http' || !(error instanceof HttpException)) return;
  const { httpAdapter } = adapterHost;
  const response: unknown = context.switchToHttp().getResponse();
  const { wwwAuthenticate } = error as { wwwAuthenticate?: unknown };
  // 403 too when the refusal names its challenge (RFC 6750's insufficient_scope).
  if (
    error.getStatus() === 401 ||
    (error.getStatus() === 403 && typeof wwwAuthenticate === 'string')
  ) {
    httpAdapter.setHeader(
      response,
      'WWW-Authenticate',
      typeof wwwAuthenticate === 'string' ? wwwAuthenticate : 'Bearer',
    );
  }
  const { retryAfterSeconds } = error as { retryAfterSeconds?: unknown };
  if (typeof retryAfterSeconds === 'number') {
    httpAdapter.setHeader(response, 'Retry-After', String(retryAfterSeconds));
  }
}

/** Adds those headers to errors thrown by a handler (guards use `setAuthErrorHeaders` directly). */
@Injectable()
export class AuthErrorHeadersInterceptor implements NestInterceptor {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      catchError((error: unknown) => {
        setAuthErrorHeaders(this.adapterHost, context, error);
        return throwError(() => error);
      }),
    );
  }
}

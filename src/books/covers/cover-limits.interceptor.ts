import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Observable } from 'rxjs';
import { catchError, throwError } from 'rxjs';

import type { AuthRequest } from '../../auth/index.js';
import type { RetryAfter } from './cover-limits.service.js';
import { CoverLimitsService } from './cover-limits.service.js';

const isMultipart = (request: AuthRequest): boolean => {
  const type = request.headers['content-type'];
  return typeof type === 'string' && type.toLowerCase().startsWith('multipart/');
};

const hasRetryAfter = (error: unknown): error is RetryAfter =>
  typeof (error as Partial<RetryAfter> | null)?.retryAfterSeconds === 'number';

/**
 * Placed before the upload interceptor: a multipart request (the only way a cover comes) is
 * counted against the user's allowance before its body is read, and the cover limits' 429 and 503
 * leave with their Retry-After. JSON changes to a book are not counted.
 */
@Injectable()
export class CoverLimitsInterceptor implements NestInterceptor {
  constructor(
    private readonly limits: CoverLimitsService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<AuthRequest>();
    const response: unknown = context.switchToHttp().getResponse();
    const withRetryAfter = (error: unknown): Observable<never> => {
      if (hasRetryAfter(error)) {
        this.adapterHost.httpAdapter.setHeader(
          response,
          'Retry-After',
          String(error.retryAfterSeconds),
        );
      }
      return throwError(() => error);
    };
    // Routes using it are behind @Auth(), so there is a user; without one there is nothing to count.
    if (request.user && isMultipart(request)) {
      try {
        this.limits.countUpload(request.user.id);
      } catch (error) {
        return withRetryAfter(error);
      }
    }
    return next.handle().pipe(catchError(withRetryAfter));
  }
}

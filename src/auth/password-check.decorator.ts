import { applyDecorators, UseInterceptors } from '@nestjs/common';
import { ApiServiceUnavailableResponse } from '@nestjs/swagger';

import { AuthErrorHeadersInterceptor } from './interceptors/auth-error-headers.interceptor.js';

/**
 * A route that hashes or checks a password: its check waits in the hashing queue (see
 * PasswordService), so it may answer 503 with Retry-After when the queue is full. Declares that
 * answer and sets the header on it.
 */
export function PasswordCheck(): MethodDecorator {
  return applyDecorators(
    UseInterceptors(AuthErrorHeadersInterceptor),
    ApiServiceUnavailableResponse({
      description:
        'Too many password checks are waiting (the answer comes at once, see Retry-After; not ' +
        'counted as a failed login), or the database is unavailable',
      headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } },
    }),
  );
}

import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiUnauthorizedResponse } from '@nestjs/swagger';

import { BEARER_SCHEME } from './auth.decorator.js';

export const OPTIONAL_AUTH_KEY = 'guardhouse:optionalAuth';

/**
 * Public route that still identifies the caller when a token is sent: no token means anonymous,
 * a valid token loads the user, an invalid one is a 401 (never silently anonymous).
 */
export function OptionalAuth(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(OPTIONAL_AUTH_KEY, true),
    ApiBearerAuth(BEARER_SCHEME),
    ApiUnauthorizedResponse({ description: 'A token was sent and it is invalid or expired' }),
  );
}

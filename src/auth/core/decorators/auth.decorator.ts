import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';

import type { Role } from '../roles.js';
import { Roles } from './roles.decorator.js';

export const BEARER_SCHEME = 'bearer';

/**
 * A protected route in one decorator: optional roles plus its Swagger security and 401/403.
 * Routes are protected by the global guard anyway; this documents it and adds roles.
 */
export function Auth(...roles: Role[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...(roles.length > 0 ? [Roles(...roles)] : []),
    ApiBearerAuth(BEARER_SCHEME),
    ApiUnauthorizedResponse({ description: 'Missing, invalid or expired access token' }),
    ApiForbiddenResponse({
      description:
        roles.length > 0
          ? `Account disabled, or role is not ${roles.join(' or ')}`
          : 'Account disabled',
    }),
  );
}

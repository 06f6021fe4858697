import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiUnauthorizedResponse } from '@nestjs/swagger';

export const RECENT_AUTH_KEY = 'guardhouse:recentAuth';

/**
 * A sensitive action: the session must have authenticated its user within the kit's
 * `recentAuthMaxAgeSeconds` (the access token's `auth_time`), else 401 with
 * `WWW-Authenticate: Bearer error="insufficient_user_authentication", max_age=…` (RFC 9470).
 * `POST /api/auth/reauthenticate` gives the session a new, recent `auth_time`.
 */
export function RecentAuth(): MethodDecorator {
  return applyDecorators(
    SetMetadata(RECENT_AUTH_KEY, true),
    ApiUnauthorizedResponse({
      description:
        'Missing, invalid or expired access token, or no authentication recent enough for this ' +
        'action (`WWW-Authenticate: Bearer error="insufficient_user_authentication"`: call ' +
        '`POST /api/auth/reauthenticate`, then retry with the new access token)',
    }),
  );
}

import { applyDecorators, UnauthorizedException } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';

import type { AuthUser } from '../../core/auth-user.js';

/** A user's ObjectId, or `me` for the caller (either case). */
export const USER_ID_OR_ME = /^(me|[0-9a-f]{24})$/i;

/** Validates a query field that names a user by id or as `me`; resolve it with resolveUserIdOrMe. */
export const IsUserIdOrMe = (): PropertyDecorator =>
  applyDecorators(
    Matches(USER_ID_OR_ME, { message: '$property must be a user id or "me"' }),
    // The Swagger plugin sees only a literal @Matches(), so the pattern is documented here.
    ApiProperty({ pattern: USER_ID_OR_ME.source }),
  );

/**
 * The user id a validated `<id>|me` value stands for, lower-cased as ids are stored. `me` without
 * a caller (an anonymous request to a public list) is a 401: the value names no one.
 */
export function resolveUserIdOrMe(
  value: string,
  user: AuthUser | undefined,
  field: string,
): string {
  const ref = value.toLowerCase();
  if (ref !== 'me') return ref;
  if (!user) throw new UnauthorizedException(`${field}=me needs an access token`);
  return user.id;
}

import { applyDecorators } from '@nestjs/common';
import { IsByteLength, IsString, Matches, MinLength } from 'class-validator';

export const PASSWORD_RULES =
  'At least 8 characters with a lower-case letter, an upper-case letter, a digit and a symbol; at most 72 bytes in UTF-8.';

/**
 * The password policy. bcrypt ignores everything after 72 bytes, so longer passwords are refused
 * instead of silently truncated.
 */
export function IsPassword(): PropertyDecorator {
  return applyDecorators(
    IsString(),
    MinLength(8, { message: 'password must be at least 8 characters long' }),
    IsByteLength(0, 72, { message: 'password must be at most 72 bytes in UTF-8' }),
    Matches(/\p{Ll}/u, { message: 'password must contain a lower-case letter' }),
    Matches(/\p{Lu}/u, { message: 'password must contain an upper-case letter' }),
    Matches(/\p{Nd}/u, { message: 'password must contain a digit' }),
    Matches(/[^\p{L}\p{Nd}\s]/u, { message: 'password must contain a symbol' }),
  );
}

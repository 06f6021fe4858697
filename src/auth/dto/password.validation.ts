import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsString, ValidateBy } from 'class-validator';

import {
  codePointLength,
  isCommonPassword,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  PASSWORD_RULES,
} from '../password-policy.js';

/**
 * The rules every policy shares: length in code points, and not a common password. The
 * `classes` policy is a per-application option, which static decorators cannot read, so
 * PasswordService applies it (AuthService calls it before anything else). Passwords over
 * bcrypt's 72 bytes are accepted: PasswordService pre-hashes them. Documents the rules too.
 */
export function IsPassword(): PropertyDecorator {
  return applyDecorators(
    ApiProperty({
      example: 'correct horse battery staple',
      description: PASSWORD_RULES,
      minLength: MIN_PASSWORD_LENGTH,
      maxLength: MAX_PASSWORD_LENGTH,
    }),
    IsString(),
    ValidateBy({
      name: 'passwordMinLength',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' && codePointLength(value) >= MIN_PASSWORD_LENGTH,
        defaultMessage: () => `$property must be at least ${MIN_PASSWORD_LENGTH} characters long`,
      },
    }),
    ValidateBy({
      name: 'passwordMaxLength',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' && codePointLength(value) <= MAX_PASSWORD_LENGTH,
        defaultMessage: () => `$property must be at most ${MAX_PASSWORD_LENGTH} characters long`,
      },
    }),
    ValidateBy({
      name: 'notCommonPassword',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && !isCommonPassword(value),
        defaultMessage: () =>
          '$property is too common (it is on a list of passwords found in breaches); a few unrelated words make a strong one',
      },
    }),
  );
}

import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsNotEmpty, IsString, MaxLength } from 'class-validator';

import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../password-policy.js';
import { Trim } from '../shared/decorators/trim.decorator.js';
import { NormalizeEmail } from './email.transform.js';
import { IsPassword, PASSWORD_RULES } from './password.validation.js';

export class SignupDto {
  /** Trimmed and lower-cased; must be unique. */
  @ApiProperty({ example: 'ada@example.com' })
  @NormalizeEmail()
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @ApiProperty({
    example: 'correct horse battery staple',
    description: PASSWORD_RULES,
    minLength: MIN_PASSWORD_LENGTH,
    maxLength: MAX_PASSWORD_LENGTH,
  })
  @IsPassword()
  password!: string;

  @ApiProperty({ example: 'Ada Lovelace' })
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name!: string;
}

import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsNotEmpty, IsString, MaxLength } from 'class-validator';

import { Trim } from '../shared/decorators/trim.decorator.js';
import { NormalizeEmail } from './email.transform.js';
import { IsPassword } from './password.validation.js';

export class SignupDto {
  /** Trimmed and lower-cased; must be unique. */
  @ApiProperty({ example: 'ada@example.com' })
  @NormalizeEmail()
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @IsPassword()
  password!: string;

  @ApiProperty({ example: 'Ada Lovelace' })
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name!: string;
}

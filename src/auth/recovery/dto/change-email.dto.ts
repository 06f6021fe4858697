import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsString, MaxLength, MinLength } from 'class-validator';

import { NormalizeEmail } from '../../dto/email.transform.js';

export class ChangeEmailDto {
  /** Trimmed and lower-cased; a confirmation link is mailed here. */
  @ApiProperty({ example: 'ada@new.example.com' })
  @NormalizeEmail()
  @IsEmail()
  @MaxLength(254)
  newEmail!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(256)
  currentPassword!: string;
}

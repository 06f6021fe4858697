import { IsString, MaxLength, MinLength } from 'class-validator';

import { IsPassword } from './password.validation.js';

export class ChangePasswordDto {
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  currentPassword!: string;

  @IsPassword()
  newPassword!: string;
}

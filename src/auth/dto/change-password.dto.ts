import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { IsPassword, PASSWORD_RULES } from './password.validation.js';

export class ChangePasswordDto {
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  currentPassword!: string;

  @ApiProperty({ example: 'N3w!password', description: PASSWORD_RULES })
  @IsPassword()
  newPassword!: string;
}

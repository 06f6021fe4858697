import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsString, MaxLength, MinLength } from 'class-validator';

import { NormalizeEmail } from './email.transform.js';

export class LoginDto {
  @ApiProperty({ example: 'ada@example.com' })
  @NormalizeEmail()
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @ApiProperty({ example: 'Str0ng!pass' })
  @IsString()
  @MinLength(1)
  // Longer inputs cannot match (bcrypt reads 72 bytes); refuse before spending a hash on them.
  @MaxLength(256)
  password!: string;
}

import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';

import { AuthenticationResponseDto } from '../../passkeys/dto/webauthn.dto.js';

/**
 * One proof of the user's identity: the password, a current code of their second factor, or an
 * assertion of one of their passkeys.
 */
export class ReauthenticateDto {
  @ApiProperty({ required: false, example: 'Str0ng!pass', description: 'Your password' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  password?: string;

  @ApiProperty({
    required: false,
    example: '123456',
    description: 'Or six digits from your authenticator app',
  })
  @IsOptional()
  @Matches(/^\d{6}$/, { message: 'code must be six digits' })
  code?: string;

  /**
   * Or what `startAuthentication()` returned for options from
   * `POST /api/auth/reauthenticate/options`.
   */
  @IsOptional()
  @ValidateNested()
  @Type(() => AuthenticationResponseDto)
  passkey?: AuthenticationResponseDto;
}

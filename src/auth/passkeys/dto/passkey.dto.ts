import { ApiProperty } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';

import { AuthenticationResponseDto, RegistrationResponseDto } from './webauthn.dto.js';

const trim = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.trim() : value;

/** A passkey as its owner sees it. */
export class PasskeyDto {
  /** The passkey's id in this API (for rename and delete). */
  @ApiProperty({ example: '65f1c0ffee0123456789abcd' })
  id!: string;
  @ApiProperty({ example: 'Laptop' })
  name!: string;
  createdAt!: Date;
  /** The last login or re-authentication it finished; null before the first. */
  @ApiProperty({ type: Date, nullable: true })
  lastUsedAt!: Date | null;
  /** The authenticator says the key is synced (backed up) to other devices. */
  backedUp!: boolean;
  /** How the browser reaches the authenticator (`internal`, `hybrid`, `usb`…). */
  transports!: string[];
}

export class RegisterPasskeyDto {
  /** What `startRegistration()` returned for the options of this session. */
  @IsObject()
  @ValidateNested()
  @Type(() => RegistrationResponseDto)
  response!: RegistrationResponseDto;

  @ApiProperty({ required: false, example: 'Laptop', description: 'Default "Passkey"' })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  name?: string;
}

export class RenamePasskeyDto {
  @ApiProperty({ example: 'Phone' })
  @Transform(trim)
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  name!: string;
}

export class PasskeyLoginDto {
  /** What `startAuthentication()` returned for options from `POST /api/auth/passkeys/login/options`. */
  @IsObject()
  @ValidateNested()
  @Type(() => AuthenticationResponseDto)
  response!: AuthenticationResponseDto;
}

export class PasskeyMfaOptionsDto {
  /** From the first step of `POST /api/auth/login`. */
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  mfaToken!: string;
}

export class PasskeyMfaLoginDto extends PasskeyMfaOptionsDto {
  /** What `startAuthentication()` returned for options from `POST /api/auth/login/mfa/passkey/options`. */
  @IsObject()
  @ValidateNested()
  @Type(() => AuthenticationResponseDto)
  response!: AuthenticationResponseDto;
}

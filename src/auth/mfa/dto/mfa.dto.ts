import { ApiProperty } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';

import { TokenResponseDto } from '../../dto/token-response.dto.js';

const TOTP_CODE = /^\d{6}$/;

export class StartTotpDto {
  /** Your current password. */
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  password!: string;
}

export class TotpCodeDto {
  @ApiProperty({ example: '123456', description: 'Six digits from the authenticator app' })
  @Matches(TOTP_CODE, { message: 'code must be six digits' })
  code!: string;
}

export class DisableTotpDto extends TotpCodeDto {
  /** Your current password. */
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  password!: string;
}

/** The acting admin proves who they are before resetting someone else's second factor. */
export class AdminDisableMfaDto {
  /** Your (the acting admin's) current password. */
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  password!: string;

  @ApiProperty({
    required: false,
    example: '123456',
    description: 'Your own current code, required when your second factor is on',
  })
  @IsOptional()
  @Matches(TOTP_CODE, { message: 'code must be six digits' })
  code?: string;
}

export class MfaLoginDto {
  /** From the first step of `POST /api/auth/login`. */
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  mfaToken!: string;

  @ApiProperty({ required: false, example: '123456', description: 'Code from the app' })
  @IsOptional()
  @Matches(TOTP_CODE, { message: 'code must be six digits' })
  code?: string;

  @ApiProperty({ required: false, example: 'k7m2q-9xw4d', description: 'Or a recovery code' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  recoveryCode?: string;
}

export class TotpEnrolmentDto {
  /** Base32 secret, for typing into an app by hand. */
  secret!: string;
  @ApiProperty({ example: 'otpauth://totp/Guardhouse:ada%40example.com?secret=…' })
  otpauthUri!: string;
  @ApiProperty({ example: 'data:image/png;base64,iVBORw0KGgo…' })
  qrCode!: string;
}

export class RecoveryCodesDto {
  /** Ten single-use codes, shown this once: each finishes one login instead of an app code. */
  recoveryCodes!: string[];
}

export class MfaChallengeDto {
  @ApiProperty({ enum: [true], example: true })
  mfaRequired!: true;
  /** Send it with a code to `POST /api/auth/login/mfa`; single use. */
  mfaToken!: string;
  /** Seconds the mfaToken stays valid. */
  @ApiProperty({ example: 300 })
  expiresIn!: number;
}

export class MfaTokenResponseDto extends TokenResponseDto {
  /** Present when a recovery code was used: how many unused ones are left. */
  recoveryCodesRemaining?: number;
}

export class MfaStatusDto {
  /** The TOTP factor is on (confirmed). */
  totpEnabled!: boolean;
  /** Unused recovery codes. */
  recoveryCodesRemaining!: number;
}

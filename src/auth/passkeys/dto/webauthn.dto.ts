import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { AuthenticationExtensionsClientOutputs } from '@simplewebauthn/server';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  Equals,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';

/** base64url without padding, as WebAuthn's JSON encodes bytes. */
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const MESSAGE = { message: '$property must be base64url' };

// ---- what the browser sends (@simplewebauthn/browser's startRegistration/startAuthentication) ----

export class AttestationResponseDto {
  @Matches(BASE64URL, MESSAGE)
  @MaxLength(4096)
  clientDataJSON!: string;

  @Matches(BASE64URL, MESSAGE)
  @MaxLength(16384)
  attestationObject!: string;

  @IsOptional()
  @Matches(BASE64URL, MESSAGE)
  @MaxLength(16384)
  authenticatorData?: string;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @IsString({ each: true })
  @MaxLength(32, { each: true })
  transports?: string[];

  @IsOptional()
  @IsInt()
  publicKeyAlgorithm?: number;

  @IsOptional()
  @Matches(BASE64URL, MESSAGE)
  @MaxLength(16384)
  publicKey?: string;
}

export class AssertionResponseDto {
  @Matches(BASE64URL, MESSAGE)
  @MaxLength(4096)
  clientDataJSON!: string;

  @Matches(BASE64URL, MESSAGE)
  @MaxLength(4096)
  authenticatorData!: string;

  @Matches(BASE64URL, MESSAGE)
  @MaxLength(1024)
  signature!: string;

  /** The account's user handle, which a discoverable credential returns. */
  @IsOptional()
  @Matches(BASE64URL, MESSAGE)
  @MaxLength(128)
  userHandle?: string;
}

export class CredentialJsonDto {
  /** The credential id (base64url). */
  @Matches(BASE64URL, MESSAGE)
  @MaxLength(1400)
  id!: string;

  @Matches(BASE64URL, MESSAGE)
  @MaxLength(1400)
  rawId!: string;

  @ApiProperty({ enum: ['public-key'] })
  @Equals('public-key')
  type!: 'public-key';

  @ApiProperty({ type: 'object', additionalProperties: true })
  @IsObject()
  clientExtensionResults!: AuthenticationExtensionsClientOutputs;

  @ApiProperty({ required: false, enum: ['platform', 'cross-platform'] })
  @IsOptional()
  @IsIn(['platform', 'cross-platform'])
  authenticatorAttachment?: 'platform' | 'cross-platform';
}

/** `RegistrationResponseJSON`: what `startRegistration()` resolves to. */
export class RegistrationResponseDto extends CredentialJsonDto {
  @IsObject()
  @ValidateNested()
  @Type(() => AttestationResponseDto)
  response!: AttestationResponseDto;
}

/** `AuthenticationResponseJSON`: what `startAuthentication()` resolves to. */
export class AuthenticationResponseDto extends CredentialJsonDto {
  @IsObject()
  @ValidateNested()
  @Type(() => AssertionResponseDto)
  response!: AssertionResponseDto;
}

// ---- what the server answers (@simplewebauthn/server's generate*Options) ----

export class RelyingPartyDto {
  name!: string;
  id!: string;
}

export class UserEntityDto {
  /** The account's user handle (base64url). */
  id!: string;
  name!: string;
  displayName!: string;
}

export class CredentialParameterDto {
  /** A COSE algorithm: -8 EdDSA, -7 ES256, -257 RS256. */
  alg!: number;
  @ApiProperty({ enum: ['public-key'] })
  type!: 'public-key';
}

export class CredentialDescriptorDto {
  id!: string;
  @ApiProperty({ enum: ['public-key'] })
  type!: 'public-key';
  transports?: string[];
}

export class AuthenticatorSelectionDto {
  authenticatorAttachment?: string;
  residentKey?: string;
  requireResidentKey?: boolean;
  userVerification?: string;
}

/** `PublicKeyCredentialCreationOptionsJSON`: pass it to `startRegistration({ optionsJSON })`. */
export class CreationOptionsDto {
  /** Single use, valid for 5 minutes. */
  challenge!: string;
  rp!: RelyingPartyDto;
  user!: UserEntityDto;
  pubKeyCredParams!: CredentialParameterDto[];
  timeout?: number;
  attestation?: string;
  /** Your own passkeys: the authenticator does not make a second one for this account. */
  excludeCredentials?: CredentialDescriptorDto[];
  authenticatorSelection?: AuthenticatorSelectionDto;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  extensions?: Record<string, unknown>;
  hints?: string[];
}

/** `PublicKeyCredentialRequestOptionsJSON`: pass it to `startAuthentication({ optionsJSON })`. */
export class RequestOptionsDto {
  /** Single use, valid for 5 minutes. */
  challenge!: string;
  rpId?: string;
  timeout?: number;
  /** Absent for a usernameless login: the authenticator offers its discoverable passkeys. */
  allowCredentials?: CredentialDescriptorDto[];
  userVerification?: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  extensions?: Record<string, unknown>;
  hints?: string[];
}

import { ApiProperty } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';

const OPAQUE = /^[A-Za-z0-9_-]{20,200}$/;
/** base64url(SHA-256(verifier)): 43 characters. */
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** A random value the front end made (at least 256 bits, base64url), kept until the exchange. */
const VERIFIER = /^[A-Za-z0-9_-]{43,128}$/;

/** A provider a front end shows a button for. */
export class ProviderDto {
  @ApiProperty({ example: 'google' })
  id!: string;
  @ApiProperty({ example: 'Google' })
  name!: string;
  /** Open it in the browser, with `?redirect=<your allowed return URL>`. */
  @ApiProperty({ example: 'https://app.example.com/api/auth/oidc/google/start' })
  startUrl!: string;
}

export class OidcStartQueryDto {
  /** Where the browser returns (exactly one of OIDC_REDIRECT_ALLOWLIST); default its first. */
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  redirect?: string;

  /** A link started by `POST /api/auth/identities/:provider` (its URL carries it). */
  @IsOptional()
  @Matches(OPAQUE, { message: 'link is not a link request' })
  link?: string;

  /**
   * base64url(SHA-256(verifier)) of a random verifier the front end keeps (sessionStorage) until
   * it exchanges the code: required for a sign-in; it binds the code to this front end.
   */
  @IsOptional()
  @Matches(CHALLENGE, { message: 'challenge must be base64url(SHA-256(verifier)), 43 characters' })
  challenge?: string;
}

export class OidcExchangeDto {
  /** The one-time code from the redirect's fragment (`#code=…`). */
  @Matches(OPAQUE, { message: 'code is not a sign-in code' })
  code!: string;

  /** The verifier whose SHA-256 was the `challenge` sent to `/start` (43 to 128 base64url characters). */
  @Matches(VERIFIER, { message: 'verifier must be 43 to 128 base64url characters' })
  verifier!: string;
}

export class LinkIdentityDto {
  /** Where the browser returns (exactly one of OIDC_REDIRECT_ALLOWLIST); default its first. */
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  redirect?: string;
}

export class LinkUrlDto {
  /** Open it in the browser (a top-level navigation): it goes on to the provider. */
  url!: string;
}

/** A provider account linked to yours. */
export class IdentityDto {
  @ApiProperty({ example: 'google' })
  provider!: string;
  @ApiProperty({ example: 'Google' })
  name!: string;
  /** The provider's email for the account when it was linked. */
  @ApiProperty({ type: String, nullable: true })
  email!: string | null;
  linkedAt!: Date;
}

export class ConfirmLinkDto {
  /** The one-time code from the redirect's fragment (`#link_code=…`). */
  @Matches(OPAQUE, { message: 'code is not a link code' })
  code!: string;

  /** The verifier of the `challenge` added to the link URL, when one was. */
  @IsOptional()
  @Matches(VERIFIER, { message: 'verifier must be 43 to 128 base64url characters' })
  verifier?: string;
}

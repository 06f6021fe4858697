import { ApiProperty } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';

const OPAQUE = /^[A-Za-z0-9_-]{20,200}$/;

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
}

export class OidcExchangeDto {
  /** The one-time code from the redirect's fragment (`#code=…`). */
  @Matches(OPAQUE, { message: 'code is not a sign-in code' })
  code!: string;
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

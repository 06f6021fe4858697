import { ApiProperty } from '@nestjs/swagger';

/** A new access token for the session the request came with (re-authentication). */
export class AccessTokenDto {
  /** Short-lived JWT to send as `Authorization: Bearer <token>`. */
  accessToken!: string;
  @ApiProperty({ example: 'Bearer', enum: ['Bearer'] })
  tokenType!: 'Bearer';
  /** Access-token lifetime in seconds. */
  @ApiProperty({ example: 900 })
  expiresIn!: number;
}

export class TokenResponseDto extends AccessTokenDto {
  /** Opaque token for `POST /api/auth/refresh`; single use, rotated on every refresh. */
  refreshToken!: string;
}

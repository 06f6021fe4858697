import { ApiProperty } from '@nestjs/swagger';

export class TokenResponseDto {
  /** Short-lived JWT to send as `Authorization: Bearer <token>`. */
  accessToken!: string;
  /** Opaque token for `POST /api/auth/refresh`; single use, rotated on every refresh. */
  refreshToken!: string;
  @ApiProperty({ example: 'Bearer', enum: ['Bearer'] })
  tokenType!: 'Bearer';
  /** Access-token lifetime in seconds. */
  @ApiProperty({ example: 900 })
  expiresIn!: number;
}

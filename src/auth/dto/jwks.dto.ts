import { ApiProperty } from '@nestjs/swagger';

export class JwksDto {
  /** Public keys (JWK) that verify access tokens; empty when tokens are HMAC-signed (HS256). */
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true } })
  keys!: Record<string, unknown>[];
}

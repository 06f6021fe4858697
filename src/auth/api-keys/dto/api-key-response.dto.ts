import { ApiProperty } from '@nestjs/swagger';

import type { ApiKeyScope } from '../../core/scopes.js';
import { API_KEY_SCOPES } from '../../core/scopes.js';

/** A key as lists show it: never its secret. */
export class ApiKeyResponseDto {
  /** The key's public id (also the part after `gdk_` of the key). */
  id!: string;
  /** `gdk_<id>_…`: enough to recognise the key, nothing to use it. */
  prefix!: string;
  name!: string;
  @ApiProperty({ enum: API_KEY_SCOPES, isArray: true })
  scopes!: ApiKeyScope[];
  createdAt!: Date;
  @ApiProperty({
    type: Date,
    nullable: true,
    description: 'Last request made with it (updated at most once a minute)',
  })
  lastUsedAt!: Date | null;
  expiresAt!: Date;
}

/** The answer to creating a key: the only time its full value is shown. */
export class CreatedApiKeyResponseDto extends ApiKeyResponseDto {
  @ApiProperty({
    description: 'The key, shown this once: send it as `Authorization: Bearer <key>`',
    example: 'gdk_AbC123dEf456_…',
  })
  key!: string;
}

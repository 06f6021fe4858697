import { ApiProperty } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsDateString,
  IsIn,
  IsNotEmpty,
  IsOptional,
  IsString,
  MaxLength,
} from 'class-validator';

import type { ApiKeyScope } from '../../core/scopes.js';
import { API_KEY_SCOPES } from '../../core/scopes.js';
import { Trim } from '../../shared/decorators/trim.decorator.js';

export class CreateApiKeyDto {
  /** What the key is for, e.g. `nightly backup`. */
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name!: string;

  @ApiProperty({
    enum: API_KEY_SCOPES,
    isArray: true,
    example: ['movies:read'],
    description: '`admin` only for admins',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(API_KEY_SCOPES.length)
  @ArrayUnique()
  @IsIn(API_KEY_SCOPES, { each: true })
  scopes!: ApiKeyScope[];

  @ApiProperty({
    required: false,
    format: 'date-time',
    description:
      'In the future, at most API_KEY_MAX_DAYS away. Default: API_KEY_DEFAULT_DAYS from now',
  })
  @IsOptional()
  @IsDateString({ strict: true })
  expiresAt?: string;
}

import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsISO8601, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

import { PaginationQueryDto } from '../../shared/dto/pagination-query.dto.js';
import { ANONYMOUS_ACTOR, AUDIT_EVENT_TYPE_PATTERN, SYSTEM_ACTOR } from '../audit-events.js';

const lowerCase = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.toLowerCase() : value;

/** `GET /users/me/events`: your own events, optionally of one type. */
export class MyAuditEventsQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({
    example: 'login.failed',
    maxLength: 100,
    description: 'Only events of this type (docs/audit.md lists them)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  @Matches(AUDIT_EVENT_TYPE_PATTERN, { message: 'type must be an event type such as login.failed' })
  type?: string;
}

/** `GET /audit-events` (admin): every event, filtered by type, actor, subject and time. */
export class ListAuditEventsQueryDto extends MyAuditEventsQueryDto {
  @ApiPropertyOptional({
    description: `Only events done by this user id, \`${SYSTEM_ACTOR}\` or \`${ANONYMOUS_ACTOR}\``,
    pattern: `^([0-9a-fA-F]{24}|${SYSTEM_ACTOR}|${ANONYMOUS_ACTOR})$`,
  })
  @IsOptional()
  @IsString()
  @Transform(lowerCase)
  @Matches(new RegExp(`^([0-9a-f]{24}|${SYSTEM_ACTOR}|${ANONYMOUS_ACTOR})$`), {
    message: `actor must be a user id, ${SYSTEM_ACTOR} or ${ANONYMOUS_ACTOR}`,
  })
  actor?: string;

  @ApiPropertyOptional({
    description: 'Only events about this account (user id)',
    pattern: '^[0-9a-fA-F]{24}$',
  })
  @IsOptional()
  @IsString()
  @Transform(lowerCase)
  @Matches(/^[0-9a-f]{24}$/, { message: 'subject must be a 24-character hex ObjectId' })
  subject?: string;

  @ApiPropertyOptional({
    example: '2030-01-01T00:00:00Z',
    description: 'Only events at or after this time (ISO 8601 date or date-time)',
  })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  from?: string;

  @ApiPropertyOptional({
    example: '2030-02-01T00:00:00Z',
    description: 'Only events before this time (ISO 8601 date or date-time)',
  })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  to?: string;
}

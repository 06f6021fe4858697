import { ApiProperty } from '@nestjs/swagger';

import type { AuditEvent } from '../schemas/audit-event.schema.js';

/** One security event: who did what to which account, when and from where. Never a secret. */
export class AuditEventResponseDto {
  id!: string;
  /** When it happened. */
  at!: Date;
  @ApiProperty({
    example: 'login.succeeded',
    description: 'The event type; docs/audit.md lists every type and the shape of its detail',
  })
  type!: string;
  @ApiProperty({
    example: '65f000000000000000000001',
    description: 'Who did it: a user id, `system` (the API itself) or `anonymous`',
  })
  actor!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The account the event concerns (a user id); null when none is known',
  })
  subject!: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The session the event concerns or came from',
  })
  session!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Client address' })
  ip!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'User-Agent header' })
  userAgent!: string | null;
  /** The API instance that recorded it. */
  instance!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { secondFactor: null },
    description: 'A few fields that depend on `type` (docs/audit.md)',
  })
  detail!: Record<string, unknown>;
}

export function toAuditEventResponse(event: AuditEvent): AuditEventResponseDto {
  return {
    id: event._id.toHexString(),
    at: event.at,
    type: event.type,
    actor: event.actor,
    subject: event.subject ?? null,
    session: event.session ?? null,
    ip: event.ip ?? null,
    userAgent: event.userAgent ?? null,
    instance: event.instance,
    detail: event.detail ?? {},
  };
}

import { BadRequestException, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { QueryFilter } from 'mongoose';
import { Model, trusted } from 'mongoose';

import type { KeysetSort } from '../shared/cursor.js';
import type { PageDto } from '../shared/dto/paginated.dto.js';
import { paginate } from '../shared/paginate.js';
import { AuditRecorder } from './audit-recorder.service.js';
import type { AuditEventResponseDto } from './dto/audit-event-response.dto.js';
import { toAuditEventResponse } from './dto/audit-event-response.dto.js';
import type {
  ListAuditEventsQueryDto,
  MyAuditEventsQueryDto,
} from './dto/list-audit-events-query.dto.js';
import { AuditEvent } from './schemas/audit-event.schema.js';

/** Newest first; `_id` breaks ties (and makes a keyset cursor a position). */
const NEWEST_FIRST: KeysetSort = { at: -1, _id: -1 };

/** Reading the audit trail: a user's own events, and every event for admins. */
@Injectable()
export class AuditService {
  constructor(
    @InjectModel(AuditEvent.name) private readonly events: Model<AuditEvent>,
    private readonly recorder: AuditRecorder,
  ) {}

  /** The events about the user's account (its subject), newest first. */
  listForUser(
    userId: string,
    query: MyAuditEventsQueryDto,
  ): Promise<PageDto<AuditEventResponseDto>> {
    const filter: QueryFilter<AuditEvent> = { subject: userId };
    if (query.type !== undefined) filter.type = this.knownType(query.type);
    return paginate(this.events, filter, query, NEWEST_FIRST, toAuditEventResponse);
  }

  list(query: ListAuditEventsQueryDto): Promise<PageDto<AuditEventResponseDto>> {
    const filter: QueryFilter<AuditEvent> = {};
    if (query.type !== undefined) filter.type = this.knownType(query.type);
    if (query.actor !== undefined) filter.actor = query.actor;
    if (query.subject !== undefined) filter.subject = query.subject;
    const from = query.from === undefined ? undefined : this.date(query.from, 'from');
    const to = query.to === undefined ? undefined : this.date(query.to, 'to');
    if (from && to && from.getTime() > to.getTime()) {
      throw new BadRequestException('from must not be after to');
    }
    if (from || to) {
      filter.at = trusted({ ...(from ? { $gte: from } : {}), ...(to ? { $lt: to } : {}) });
    }
    return paginate(this.events, filter, query, NEWEST_FIRST, toAuditEventResponse);
  }

  /** A filter on a type nobody records is a client mistake, not an empty list. */
  private knownType(type: string): string {
    if (!this.recorder.isKnownType(type)) {
      throw new BadRequestException(`type must be a known event type (docs/audit.md)`);
    }
    return type;
  }

  private date(value: string, name: string): Date {
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) throw new BadRequestException(`${name} must be a date`);
    return date;
  }
}

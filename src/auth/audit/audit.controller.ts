import { Controller, Get, Header, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';

import type { AuthUser } from '../core/auth-user.js';
import { Auth } from '../core/decorators/auth.decorator.js';
import { CurrentUser } from '../core/decorators/current-user.decorator.js';
import { Scopes } from '../core/decorators/scopes.decorator.js';
import { Role } from '../core/roles.js';
import type { PageDto } from '../shared/dto/paginated.dto.js';
import { ApiPageResponse } from '../shared/dto/paginated.dto.js';
import { AuditService } from './audit.service.js';
import { AuditEventResponseDto } from './dto/audit-event-response.dto.js';
import {
  ListAuditEventsQueryDto,
  MyAuditEventsQueryDto,
} from './dto/list-audit-events-query.dto.js';

const PAGING =
  'Newest first; page with the `next` cursor (`?after=`). Events appear once written, within ' +
  'AUDIT_FLUSH_INTERVAL_MS of the action.';

/** The audit trail: your own account's security events, and every event for admins. */
@ApiTags('audit')
@Controller()
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get('users/me/events')
  @Auth()
  @Scopes('account:read')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Security events of your account (logins, factors, sessions, changes)',
    description: `${PAGING} An unknown \`type\` is a 400.`,
  })
  @ApiPageResponse(AuditEventResponseDto)
  listMine(
    @CurrentUser() user: AuthUser,
    @Query() query: MyAuditEventsQueryDto,
  ): Promise<PageDto<AuditEventResponseDto>> {
    return this.audit.listForUser(user.id, query);
  }

  @Get('audit-events')
  @Auth(Role.Admin)
  @Scopes('admin')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Every security event, filtered by type, actor, subject and time (admin)',
    description: `${PAGING} \`from\` is inclusive, \`to\` exclusive; an unknown \`type\` is a 400.`,
  })
  @ApiPageResponse(AuditEventResponseDto)
  list(@Query() query: ListAuditEventsQueryDto): Promise<PageDto<AuditEventResponseDto>> {
    return this.audit.list(query);
  }
}

import {
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Query,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';

import { UsersService } from '../accounts/users.service.js';
import type { AuthModuleOptions } from '../auth.options.js';
import { AUTH_OPTIONS } from '../auth.options.js';
import type { AuthUser } from '../core/auth-user.js';
import { Auth } from '../core/decorators/auth.decorator.js';
import { ClientIp } from '../core/decorators/client-ip.decorator.js';
import { CurrentUser } from '../core/decorators/current-user.decorator.js';
import { UserAgent } from '../core/decorators/user-agent.decorator.js';
import { Role } from '../core/roles.js';
import type { PageDto } from '../shared/dto/paginated.dto.js';
import { ApiPageResponse } from '../shared/dto/paginated.dto.js';
import { PaginationQueryDto } from '../shared/dto/pagination-query.dto.js';
import { ParseObjectIdPipe } from '../shared/pipes/parse-object-id.pipe.js';
import { SessionResponseDto, toSessionResponse } from './dto/session-response.dto.js';
import { SessionsService } from './sessions.service.js';

/** An admin's view of any user's sessions. */
@ApiTags('users')
@Controller('users')
export class AdminSessionsController {
  private readonly enabled: boolean;

  constructor(
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
    @Inject(AUTH_OPTIONS) options: AuthModuleOptions,
  ) {
    this.enabled = options.sessionsApi ?? true;
  }

  @Get(':id/sessions')
  @Auth(Role.Admin)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: "A user's open sessions, newest first (admin)" })
  @ApiBadRequestResponse({ description: 'Invalid id or query parameters' })
  @ApiNotFoundResponse({ description: 'No such user' })
  @ApiPageResponse(SessionResponseDto)
  async list(
    @Param('id', ParseObjectIdPipe) id: string,
    @Query() query: PaginationQueryDto,
  ): Promise<PageDto<SessionResponseDto>> {
    this.assertEnabled();
    const { credentialVersion } = await this.users.getById(id);
    const page = await this.sessions.listForUser(id, credentialVersion, query);
    return { ...page, items: page.items.map((s) => toSessionResponse(s)) };
  }

  @Delete(':id/sessions/:sessionId')
  @HttpCode(204)
  @Auth(Role.Admin)
  @ApiOperation({ summary: "End one of a user's sessions (admin)" })
  @ApiBadRequestResponse({ description: 'Invalid id' })
  @ApiNoContentResponse({ description: 'Session ended' })
  @ApiNotFoundResponse({ description: 'No such user, or no such session of that user' })
  async end(
    @Param('id', ParseObjectIdPipe) id: string,
    @Param('sessionId') sessionId: string,
    @CurrentUser() admin: AuthUser,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<void> {
    this.assertEnabled();
    await this.sessions.end(sessionId, id, admin, { ip, userAgent });
  }

  private assertEnabled(): void {
    if (!this.enabled) throw new NotFoundException();
  }
}

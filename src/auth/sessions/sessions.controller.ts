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
import type { PageDto } from '../shared/dto/paginated.dto.js';
import { ApiPageResponse } from '../shared/dto/paginated.dto.js';
import { PaginationQueryDto } from '../shared/dto/pagination-query.dto.js';
import { SessionResponseDto, toSessionResponse } from './dto/session-response.dto.js';
import { SessionsService } from './sessions.service.js';

/** Sessions people can see and end (switched off with `sessionsApi: false`: 404). */
@ApiTags('auth')
@Controller('auth/sessions')
export class SessionsController {
  private readonly enabled: boolean;

  constructor(
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
    @Inject(AUTH_OPTIONS) options: AuthModuleOptions,
  ) {
    this.enabled = options.sessionsApi ?? true;
  }

  @Get()
  @Auth()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Your open sessions, newest first (`current` marks this one)' })
  @ApiBadRequestResponse({ description: 'Invalid query parameters' })
  @ApiNotFoundResponse({ description: 'The session list is switched off' })
  @ApiPageResponse(SessionResponseDto)
  async list(
    @CurrentUser() user: AuthUser,
    @Query() query: PaginationQueryDto,
  ): Promise<PageDto<SessionResponseDto>> {
    this.assertEnabled();
    const { credentialVersion } = await this.users.getById(user.id);
    const page = await this.sessions.listForUser(user.id, credentialVersion, query);
    return { ...page, items: page.items.map((s) => toSessionResponse(s, user.sessionId)) };
  }

  @Delete(':id')
  @HttpCode(204)
  @Auth()
  @ApiOperation({
    summary: 'End one of your sessions',
    description:
      'Its refresh token stops at once, its access tokens on every instance within ' +
      'SESSION_CACHE_TTL_MS. Another user’s session id answers 404, like an unknown one.',
  })
  @ApiNoContentResponse({ description: 'Session ended' })
  @ApiNotFoundResponse({ description: 'No such session of yours' })
  async end(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<void> {
    this.assertEnabled();
    await this.sessions.end(id, user.id, user, { ip, userAgent });
  }

  private assertEnabled(): void {
    if (!this.enabled) throw new NotFoundException();
  }
}

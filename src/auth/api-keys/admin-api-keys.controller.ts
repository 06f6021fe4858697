import { Controller, Delete, Get, Header, HttpCode, Param } from '@nestjs/common';
import {
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';

import { UsersService } from '../accounts/users.service.js';
import type { AuthUser } from '../core/auth-user.js';
import { Auth } from '../core/decorators/auth.decorator.js';
import { ClientIp } from '../core/decorators/client-ip.decorator.js';
import { CurrentUser } from '../core/decorators/current-user.decorator.js';
import { UserAgent } from '../core/decorators/user-agent.decorator.js';
import { Role } from '../core/roles.js';
import { ParseObjectIdPipe } from '../shared/pipes/parse-object-id.pipe.js';
import { ApiKeysService } from './api-keys.service.js';
import { ApiKeyResponseDto } from './dto/api-key-response.dto.js';

/** An admin's view of any user's API keys (closed to API keys: no `@Scopes`). */
@ApiTags('users')
@Controller('users')
export class AdminApiKeysController {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly users: UsersService,
  ) {}

  @Get(':id/api-keys')
  @Auth(Role.Admin)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: "A user's API keys, newest first (admin)" })
  @ApiOkResponse({ type: ApiKeyResponseDto, isArray: true })
  @ApiNotFoundResponse({ description: 'No such user' })
  async list(@Param('id', ParseObjectIdPipe) id: string): Promise<ApiKeyResponseDto[]> {
    await this.users.getById(id);
    return this.keys.list(id);
  }

  @Delete(':id/api-keys/:keyId')
  @HttpCode(204)
  @Auth(Role.Admin)
  @ApiOperation({ summary: "Revoke one of a user's API keys (admin)" })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiNotFoundResponse({ description: 'That user has no key with this id' })
  async revoke(
    @Param('id', ParseObjectIdPipe) id: string,
    @Param('keyId') keyId: string,
    @CurrentUser() admin: AuthUser,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<void> {
    await this.keys.revoke(id, keyId, admin, { ip, userAgent });
  }
}

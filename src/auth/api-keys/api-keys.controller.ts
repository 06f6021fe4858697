import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';

import type { AuthUser } from '../core/auth-user.js';
import { AllowUnverified } from '../core/decorators/allow-unverified.decorator.js';
import { Auth } from '../core/decorators/auth.decorator.js';
import { ClientIp } from '../core/decorators/client-ip.decorator.js';
import { CurrentUser } from '../core/decorators/current-user.decorator.js';
import { RecentAuth } from '../core/decorators/recent-auth.decorator.js';
import { UserAgent } from '../core/decorators/user-agent.decorator.js';
import { ApiKeysService } from './api-keys.service.js';
import { ApiKeyResponseDto, CreatedApiKeyResponseDto } from './dto/api-key-response.dto.js';
import { CreateApiKeyDto } from './dto/create-api-key.dto.js';

/** Your own API keys. Closed to API keys themselves (no `@Scopes`): a key cannot make keys. */
@ApiTags('api-keys')
@Controller('auth/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @RecentAuth()
  @Auth()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Create an API key (shown once)',
    description: 'Send it as `Authorization: Bearer <key>`; only its scopes open routes to it.',
  })
  @ApiCreatedResponse({ type: CreatedApiKeyResponseDto })
  @ApiBadRequestResponse({ description: 'Invalid name, scopes or expiresAt' })
  @ApiForbiddenResponse({
    description: 'Account disabled, a scope your role may not hold, or an API key was sent',
  })
  @ApiConflictResponse({ description: 'You hold the most keys an account may' })
  create(
    @CurrentUser() user: AuthUser,
    @Body() dto: CreateApiKeyDto,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<CreatedApiKeyResponseDto> {
    return this.keys.create(user, dto, { ip, userAgent });
  }

  @Get()
  @Auth()
  @AllowUnverified()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Your API keys, newest first (never their secrets)' })
  @ApiOkResponse({ type: ApiKeyResponseDto, isArray: true })
  list(@CurrentUser() user: AuthUser): Promise<ApiKeyResponseDto[]> {
    return this.keys.list(user.id);
  }

  @Delete(':id')
  @HttpCode(204)
  @Auth()
  @AllowUnverified()
  @ApiOperation({ summary: 'Revoke one of your API keys' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiNotFoundResponse({ description: 'You have no key with this id' })
  revoke(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<void> {
    return this.keys.revoke(user.id, id, user, { ip, userAgent });
  }
}

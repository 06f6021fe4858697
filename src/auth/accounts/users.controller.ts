import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Param,
  Patch,
  Query,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
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
import { Scopes } from '../core/decorators/scopes.decorator.js';
import { UserAgent } from '../core/decorators/user-agent.decorator.js';
import { Role } from '../core/roles.js';
import type { PageDto } from '../shared/dto/paginated.dto.js';
import { ApiPageResponse } from '../shared/dto/paginated.dto.js';
import { ParseObjectIdPipe } from '../shared/pipes/parse-object-id.pipe.js';
import { ListUsersQueryDto } from './dto/list-users-query.dto.js';
import { UpdateMeDto } from './dto/update-me.dto.js';
import { UpdateUserDto } from './dto/update-user.dto.js';
import { toUserResponse, UserResponseDto } from './dto/user-response.dto.js';
import { UsersService } from './users.service.js';

@ApiTags('users')
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get('me')
  @Auth()
  @Scopes('account:read')
  @AllowUnverified()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'The signed-in user' })
  @ApiOkResponse({ type: UserResponseDto })
  me(@CurrentUser() user: AuthUser): UserResponseDto {
    return toUserResponse(user);
  }

  @Patch('me')
  @Auth()
  @AllowUnverified()
  @ApiOperation({ summary: 'Change your display name (the only field you may change here)' })
  @ApiBadRequestResponse({ description: 'Invalid name, or any other field' })
  @ApiOkResponse({ type: UserResponseDto })
  async updateMe(
    @CurrentUser() user: AuthUser,
    @Body() dto: UpdateMeDto,
  ): Promise<UserResponseDto> {
    return toUserResponse(await this.users.updateName(user.id, dto.name));
  }

  @Delete('me')
  @RecentAuth()
  @HttpCode(204)
  @Auth()
  @AllowUnverified()
  @ApiOperation({ summary: 'Disable your account (data is kept, sessions end)' })
  @ApiNoContentResponse({ description: 'Account disabled' })
  @ApiConflictResponse({ description: 'You are the last active admin' })
  async disableMe(
    @CurrentUser() user: AuthUser,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<void> {
    await this.users.disable(user, { ip, userAgent });
  }

  @Get()
  @Auth(Role.Admin)
  @Scopes('admin')
  @ApiOperation({ summary: 'List users (admin)' })
  @ApiPageResponse(UserResponseDto)
  async list(@Query() query: ListUsersQueryDto): Promise<PageDto<UserResponseDto>> {
    const page = await this.users.list(query);
    return { ...page, items: page.items.map(toUserResponse) };
  }

  @Get(':id')
  @Auth(Role.Admin)
  @Scopes('admin')
  @ApiOperation({ summary: 'Read a user (admin)' })
  @ApiOkResponse({ type: UserResponseDto })
  @ApiNotFoundResponse({ description: 'No such user' })
  async get(@Param('id', ParseObjectIdPipe) id: string): Promise<UserResponseDto> {
    return toUserResponse(await this.users.getById(id));
  }

  @Patch(':id')
  @RecentAuth()
  @Auth(Role.Admin)
  @ApiOperation({ summary: "Change a user's role or active flag (admin)" })
  @ApiOkResponse({ type: UserResponseDto })
  @ApiNotFoundResponse({ description: 'No such user' })
  @ApiConflictResponse({ description: 'Would leave no active admin' })
  async update(
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() dto: UpdateUserDto,
    @CurrentUser() admin: AuthUser,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<UserResponseDto> {
    return toUserResponse(await this.users.adminUpdate(id, dto, admin, { ip, userAgent }));
  }

  @Delete(':id')
  @RecentAuth()
  @HttpCode(204)
  @Auth(Role.Admin)
  @ApiOperation({
    summary: 'Delete a user and everything they own (admin)',
    description: 'Cascades to their movies, books and covers, todos, bucket lists and sessions.',
  })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ description: 'No such user' })
  @ApiConflictResponse({ description: 'Would leave no active admin' })
  async remove(
    @Param('id', ParseObjectIdPipe) id: string,
    @CurrentUser() admin: AuthUser,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<void> {
    await this.users.remove(id, admin, { ip, userAgent });
  }
}

import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Put, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';

import type { AuthUser } from '../auth/index.js';
import type { PageDto } from '../auth/index.js';
import { Auth, CurrentUser, Owned, OwnedResource, Scopes } from '../auth/index.js';
import { ApiPageResponse } from '../auth/index.js';
import { BucketlistsService } from './bucketlists.service.js';
import { BucketlistResponseDto } from './dto/bucketlist-response.dto.js';
import { CreateBucketlistDto } from './dto/create-bucketlist.dto.js';
import { ListBucketlistsQueryDto } from './dto/list-bucketlists-query.dto.js';
import { UpdateBucketlistDto } from './dto/update-bucketlist.dto.js';
import type { BucketlistDocument } from './schemas/bucketlist.schema.js';
import { BUCKETLIST_OWNERSHIP } from './schemas/bucketlist.schema.js';

/**
 * Bucket lists are private: every `/:id` route answers 404 to anyone but the owner or an admin,
 * exactly as for an id that does not exist.
 */
@ApiTags('bucketlists')
@Controller('bucketlists')
export class BucketlistsController {
  constructor(private readonly lists: BucketlistsService) {}

  @Get()
  @Auth()
  @Scopes('bucketlists:read')
  @ApiOperation({
    summary: 'List your bucket lists (admin: everyone’s, or one user’s with owner=<id|me>)',
  })
  @ApiPageResponse(BucketlistResponseDto)
  @ApiForbiddenResponse({
    description: 'Account disabled, or owner=<someone else> without the admin role',
  })
  list(
    @Query() query: ListBucketlistsQueryDto,
    @CurrentUser() user: AuthUser,
  ): Promise<PageDto<BucketlistResponseDto>> {
    return this.lists.list(query, user);
  }

  @Post()
  @Auth()
  @Scopes('bucketlists:write')
  @ApiOperation({ summary: 'Create a bucket list (you become its owner)' })
  @ApiCreatedResponse({ type: BucketlistResponseDto })
  @ApiBadRequestResponse({ description: 'Invalid body (including any owner field)' })
  create(
    @Body() dto: CreateBucketlistDto,
    @CurrentUser() user: AuthUser,
  ): Promise<BucketlistResponseDto> {
    return this.lists.create(dto, user.id);
  }

  @Get(':id')
  @Auth()
  @Scopes('bucketlists:read')
  @Owned(BUCKETLIST_OWNERSHIP)
  @ApiOperation({ summary: 'Read one of your bucket lists (admins: every list)' })
  @ApiOkResponse({ type: BucketlistResponseDto })
  get(@OwnedResource() list: BucketlistDocument): BucketlistResponseDto {
    return this.lists.view(list);
  }

  @Put(':id')
  @Auth()
  @Scopes('bucketlists:write')
  @Owned(BUCKETLIST_OWNERSHIP)
  @ApiOperation({ summary: 'Replace one of your bucket lists (admins: every list)' })
  @ApiOkResponse({ type: BucketlistResponseDto })
  replace(
    @OwnedResource() list: BucketlistDocument,
    @Body() dto: CreateBucketlistDto,
  ): Promise<BucketlistResponseDto> {
    return this.lists.update(list, dto);
  }

  @Patch(':id')
  @Auth()
  @Scopes('bucketlists:write')
  @Owned(BUCKETLIST_OWNERSHIP)
  @ApiOperation({ summary: 'Rename one of your bucket lists (admins: every list)' })
  @ApiOkResponse({ type: BucketlistResponseDto })
  update(
    @OwnedResource() list: BucketlistDocument,
    @Body() dto: UpdateBucketlistDto,
  ): Promise<BucketlistResponseDto> {
    return this.lists.update(list, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @Auth()
  @Scopes('bucketlists:write')
  @Owned(BUCKETLIST_OWNERSHIP)
  @ApiOperation({ summary: 'Delete one of your bucket lists (admins: every list)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  remove(@OwnedResource() list: BucketlistDocument): Promise<void> {
    return this.lists.remove(list);
  }
}

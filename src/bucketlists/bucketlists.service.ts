import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { QueryFilter } from 'mongoose';
import { Model } from 'mongoose';

import type { AuthUser } from '../auth/index.js';
import type { PageDto } from '../auth/index.js';
import { listOwner, paginate } from '../auth/index.js';
import type { BucketlistResponseDto } from './dto/bucketlist-response.dto.js';
import { toBucketlistResponse } from './dto/bucketlist-response.dto.js';
import type { CreateBucketlistDto } from './dto/create-bucketlist.dto.js';
import type { ListBucketlistsQueryDto } from './dto/list-bucketlists-query.dto.js';
import type { UpdateBucketlistDto } from './dto/update-bucketlist.dto.js';
import type { BucketlistDocument } from './schemas/bucketlist.schema.js';
import { Bucketlist } from './schemas/bucketlist.schema.js';

@Injectable()
export class BucketlistsService {
  constructor(@InjectModel(Bucketlist.name) private readonly lists: Model<Bucketlist>) {}

  async list(
    query: ListBucketlistsQueryDto,
    user: AuthUser,
  ): Promise<PageDto<BucketlistResponseDto>> {
    const owner = listOwner(user, query.owner, {
      adminDefault: 'all',
      refusal: "Only admins may list other users' bucket lists",
    });
    const filter: QueryFilter<Bucketlist> = owner === undefined ? {} : { owner };
    return paginate(this.lists, filter, query, { createdAt: -1, _id: -1 }, toBucketlistResponse);
  }

  async create(dto: CreateBucketlistDto, ownerId: string): Promise<BucketlistResponseDto> {
    return toBucketlistResponse(await this.lists.create({ name: dto.name, owner: ownerId }));
  }

  view(doc: BucketlistDocument): BucketlistResponseDto {
    return toBucketlistResponse(doc);
  }

  /** PUT carries a full body and PATCH a partial one; either way only `name` can change. */
  async update(doc: BucketlistDocument, dto: UpdateBucketlistDto): Promise<BucketlistResponseDto> {
    if (dto.name !== undefined) doc.name = dto.name;
    return toBucketlistResponse(await doc.save());
  }

  async remove(doc: BucketlistDocument): Promise<void> {
    await doc.deleteOne();
  }
}

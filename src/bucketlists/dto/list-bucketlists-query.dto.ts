import { IsOptional, Matches } from 'class-validator';

import { PaginationQueryDto } from '../../auth/index.js';

export class ListBucketlistsQueryDto extends PaginationQueryDto {
  /**
   * Admins only: just this user's lists (a user id, or `me`). Without it an admin sees every list.
   * Others always see only their own; they may pass `me` or their own id, anything else is 403.
   */
  @IsOptional()
  @Matches(/^(me|[0-9a-f]{24})$/i, { message: 'owner must be a user id or "me"' })
  owner?: string;
}

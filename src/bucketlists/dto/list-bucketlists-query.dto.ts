import { IsOptional } from 'class-validator';

import { IsUserIdOrMe, PaginationQueryDto } from '../../auth/index.js';

export class ListBucketlistsQueryDto extends PaginationQueryDto {
  /**
   * Admins only: just this user's lists (a user id, or `me`). Without it an admin sees every list.
   * Others always see only their own; they may pass `me` or their own id, anything else is 403.
   */
  @IsOptional()
  @IsUserIdOrMe()
  owner?: string;
}

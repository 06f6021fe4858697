import { IsOptional } from 'class-validator';

import { IsUserIdOrMe, PaginationQueryDto } from '../../../../src/auth/index.js';

export class ListRecipesQueryDto extends PaginationQueryDto {
  /** Only this user's recipes (an id or `me`): all of them for the owner and admins, else the public ones. */
  @IsOptional()
  @IsUserIdOrMe()
  owner?: string;
}

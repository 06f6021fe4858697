import { IsOptional, IsString, MaxLength } from 'class-validator';

import { IsUserIdOrMe, PaginationQueryDto } from '../../auth/index.js';

export class ListMoviesQueryDto extends PaginationQueryDto {
  /** Only movies with this genre. */
  @IsOptional()
  @IsString()
  @MaxLength(50)
  genre?: string;

  /** Only movies added by this user id, or `me` (needs a token). */
  @IsOptional()
  @IsUserIdOrMe()
  addedBy?: string;
}

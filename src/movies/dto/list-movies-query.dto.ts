import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';

import { PaginationQueryDto } from '../../auth/index.js';

export class ListMoviesQueryDto extends PaginationQueryDto {
  /** Only movies with this genre. */
  @IsOptional()
  @IsString()
  @MaxLength(50)
  genre?: string;

  /** Only movies added by this user id, or `me` (needs a token). */
  @IsOptional()
  @Matches(/^(me|[0-9a-f]{24})$/i, { message: 'addedBy must be a user id or "me"' })
  addedBy?: string;
}

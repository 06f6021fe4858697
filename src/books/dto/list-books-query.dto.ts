import { IsEnum, IsOptional, Matches } from 'class-validator';

import { OBJECT_ID_PATTERN, PaginationQueryDto } from '../../auth/index.js';
import { BookCategory } from '../book-category.js';

export class ListBooksQueryDto extends PaginationQueryDto {
  /** Only books in this category. */
  @IsOptional()
  @IsEnum(BookCategory)
  category?: BookCategory;

  /** Admin only: list this user's books instead of your own (403 for anyone else's id). */
  @IsOptional()
  @Matches(OBJECT_ID_PATTERN, { message: 'owner must be a 24-character hex ObjectId' })
  owner?: string;
}

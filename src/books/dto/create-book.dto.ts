import { IsEnum, IsNotEmpty, IsOptional, IsString, MaxLength, NotContains } from 'class-validator';

import { Trim } from '../../auth/index.js';
import { BookCategory } from '../book-category.js';

/**
 * The text fields of a book. Sent as multipart form fields on create (next to the `cover_image`
 * file) and validated exactly like JSON: unknown fields, including `owner`, are refused.
 */
export class CreateBookDto {
  /** Unique among your own books. */
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  @NotContains('\u0000', { message: 'title must not contain NUL characters' })
  title!: string;

  @IsOptional()
  @IsString()
  @MaxLength(5000)
  @NotContains('\u0000', { message: 'description must not contain NUL characters' })
  description?: string;

  @IsEnum(BookCategory)
  category!: BookCategory;
}

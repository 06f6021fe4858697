import { ownedRecordFields } from '../../common/mappers/owned-record.mapper.js';
import { BookCategory } from '../book-category.js';
import type { BookDocument } from '../schemas/book.schema.js';

export class BookResponseDto {
  id!: string;
  title!: string;
  description!: string;
  category!: BookCategory;
  /** Id of the user who owns it. */
  owner!: string;
  /** Where the cover thumbnail (WebP, at most 150×150) is served; needs an access token. */
  coverUrl!: string;
  createdAt!: Date;
  updatedAt!: Date;
}

export function toBookResponse(doc: BookDocument): BookResponseDto {
  const base = ownedRecordFields(doc, 'owner');
  return {
    ...base,
    title: doc.title,
    description: doc.description,
    category: doc.category,
    coverUrl: `/api/books/${base.id}/cover`,
  };
}

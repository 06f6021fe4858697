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
  const id = doc._id.toString();
  return {
    id,
    title: doc.title,
    description: doc.description,
    category: doc.category,
    owner: doc.owner.toString(),
    coverUrl: `/api/books/${id}/cover`,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

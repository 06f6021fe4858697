import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { HydratedDocument, Model, Query, Types } from 'mongoose';
import { Schema as MongooseSchema, trusted } from 'mongoose';

import type { OwnedOptions } from '../../auth/index.js';
import { BookCategory } from '../book-category.js';
import { BookCover } from './book-cover.schema.js';

@Schema({ timestamps: true, collection: 'books' })
export class Book {
  /** Unique per owner (compound unique index below). */
  @Prop({ required: true, trim: true })
  title!: string;

  @Prop({ default: '' })
  description!: string;

  @Prop({ type: String, enum: Object.values(BookCategory), required: true })
  category!: BookCategory;

  /** Owner: set from the access token, never from a request body. */
  @Prop({ type: MongooseSchema.Types.ObjectId, ref: 'User', required: true })
  owner!: Types.ObjectId;

  createdAt!: Date;
  updatedAt!: Date;
}

export type BookDocument = HydratedDocument<Book>;
export const BookSchema = SchemaFactory.createForClass(Book);

// A unique index rather than "find, then insert": two concurrent creates cannot both win.
BookSchema.index({ owner: 1, title: 1 }, { unique: true });
// A user's books, newest first (`_id` breaks ties); owner lookups use either index.
BookSchema.index({ owner: 1, createdAt: -1, _id: -1 });

export const BOOK_OWNERSHIP: OwnedOptions = { model: Book.name, ownerField: 'owner' };

async function deleteCovers(books: Model<Book>, bookIds: Types.ObjectId[]): Promise<void> {
  if (bookIds.length === 0) return;
  await books.db.model<BookCover>(BookCover.name).deleteMany({ _id: trusted({ $in: bookIds }) });
}

/*
 * Covers go with their books, whichever way books are deleted: one book (`doc.deleteOne()`, which
 * Mongoose runs as a `deleteOne` query on its `_id`), or many (`Book.deleteMany({ owner })`, which
 * is how the generic user-delete cascade removes every `@Owned` model). The covers go first: an
 * interruption then leaves a book without a cover (a visible 404 on /cover, fixed by retrying the
 * delete), never an orphaned cover nobody can reach.
 */
BookSchema.pre<Query<unknown, Book>>(
  'deleteMany',
  { document: false, query: true },
  async function () {
    const books = this.model as Model<Book>;
    await deleteCovers(books, await books.find(this.getFilter()).distinct('_id'));
  },
);

BookSchema.pre<Query<unknown, Book>>(
  ['deleteOne', 'findOneAndDelete'],
  { document: false, query: true },
  async function () {
    const books = this.model as Model<Book>;
    const book = await books.findOne(this.getFilter()).select('_id');
    if (book) await deleteCovers(books, [book._id]);
  },
);

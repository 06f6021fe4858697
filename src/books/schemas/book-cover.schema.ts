import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { HydratedDocument, Types } from 'mongoose';
import { Schema as MongooseSchema } from 'mongoose';

/**
 * A book's cover thumbnail, in its own collection with the bytes in a Buffer field.
 *
 * Why not GridFS: a thumbnail is a few KB (at most 150×150), far below the 16 MB document limit
 * GridFS exists to get around. GridFS would store each cover as a `files` document plus `chunks`
 * documents written one after the other, so an interrupted write or delete leaves half a file, and
 * replacing a cover means upload-new, then delete-old. Here a cover is one document whose `_id` is
 * its book's `_id`: storing or replacing it is a single `replaceOne` with upsert (atomic on MongoDB
 * and FerretDB alike), there can never be two covers for one book, and a replaced cover leaves
 * nothing behind. It uses only plain CRUD, which FerretDB supports (proven by the e2e tests).
 * Books point nowhere: the Book schema's delete middleware removes the cover with its book.
 */
@Schema({ collection: 'book_covers', timestamps: true, versionKey: false })
export class BookCover {
  /** The `_id` of the book this is the cover of. */
  @Prop({ type: MongooseSchema.Types.ObjectId, required: true })
  _id!: Types.ObjectId;

  @Prop({ required: true })
  contentType!: string;

  @Prop({ type: Buffer, required: true })
  data!: Buffer;

  @Prop({ required: true })
  size!: number;

  @Prop({ required: true })
  width!: number;

  @Prop({ required: true })
  height!: number;

  /** Hex SHA-256 of `data`, computed when it was stored; the ETag. */
  @Prop({ required: true })
  sha256!: string;

  createdAt!: Date;
  updatedAt!: Date;
}

export type BookCoverDocument = HydratedDocument<BookCover>;
export const BookCoverSchema = SchemaFactory.createForClass(BookCover);

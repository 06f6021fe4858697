import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { HydratedDocument, Types } from 'mongoose';
import { Schema as MongooseSchema } from 'mongoose';

import type { OwnedOptions } from '../../auth/index.js';

@Schema({ timestamps: true, collection: 'movies' })
export class Movie {
  @Prop({ required: true, unique: true, trim: true })
  name!: string;

  @Prop({ type: [String], required: true })
  casts!: string[];

  @Prop({ type: [String], required: true })
  genres!: string[];

  /** Owner: set from the access token, never from a request body. */
  @Prop({ type: MongooseSchema.Types.ObjectId, ref: 'User', required: true })
  addedBy!: Types.ObjectId;

  createdAt!: Date;
  updatedAt!: Date;
}

export type MovieDocument = HydratedDocument<Movie>;
/** A movie as stored, hydrated or not (a `.lean()` read). */
export type MovieRecord = Movie & { _id: Types.ObjectId };
export const MovieSchema = SchemaFactory.createForClass(Movie);
// The list's order (newest first, `_id` breaks ties) after each filter it accepts, so that
// MongoDB reads a page, not the collection (equality–sort–range; test/zz-index-coverage).
// They also serve the genre/owner lookups the single-field indexes served before.
MovieSchema.index({ createdAt: -1, _id: -1 });
MovieSchema.index({ genres: 1, createdAt: -1, _id: -1 });
MovieSchema.index({ addedBy: 1, createdAt: -1, _id: -1 });

export const MOVIE_OWNERSHIP: OwnedOptions = { model: Movie.name, ownerField: 'addedBy' };

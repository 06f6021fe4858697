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

  @Prop({ type: [String], required: true, index: true })
  genres!: string[];

  /** Owner: set from the access token, never from a request body. */
  @Prop({ type: MongooseSchema.Types.ObjectId, ref: 'User', required: true, index: true })
  addedBy!: Types.ObjectId;

  createdAt!: Date;
  updatedAt!: Date;
}

export type MovieDocument = HydratedDocument<Movie>;
export const MovieSchema = SchemaFactory.createForClass(Movie);

export const MOVIE_OWNERSHIP: OwnedOptions = { model: Movie.name, ownerField: 'addedBy' };

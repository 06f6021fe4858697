import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { HydratedDocument, Types } from 'mongoose';
import { Schema as MongooseSchema } from 'mongoose';

import type { OwnedOptions } from '../../../../src/auth/index.js';

@Schema({ timestamps: true, collection: 'recipes' })
export class Recipe {
  /** Unique per owner (compound unique index below). */
  @Prop({ required: true, trim: true })
  title!: string;

  /** Public recipes are readable by anyone, anonymous callers included; new ones are private. */
  @Prop({ type: Boolean, default: false })
  isPublic!: boolean;

  /** Owner: set from the access token, never from a request body. */
  @Prop({ type: MongooseSchema.Types.ObjectId, ref: 'User', required: true })
  owner!: Types.ObjectId;

  createdAt!: Date;
  updatedAt!: Date;
}

export type RecipeDocument = HydratedDocument<Recipe>;
export const RecipeSchema = SchemaFactory.createForClass(Recipe);

// A unique index rather than "find, then insert": two concurrent creates cannot both win.
RecipeSchema.index({ owner: 1, title: 1 }, { unique: true });
// The list, newest first (`_id` breaks ties), for each filter listVisible builds: both branches
// of "public or mine" ($or: each needs its own index), one owner's (public or all), everyone's.
RecipeSchema.index({ isPublic: 1, createdAt: -1, _id: -1 });
RecipeSchema.index({ owner: 1, createdAt: -1, _id: -1 });
RecipeSchema.index({ createdAt: -1, _id: -1 });

/** One rule for reads, changes and lists: `isPublic` recipes are anyone's to read. */
export const RECIPE_OWNERSHIP = {
  model: Recipe.name,
  ownerField: 'owner',
  readableBy: 'isPublic',
} satisfies OwnedOptions;

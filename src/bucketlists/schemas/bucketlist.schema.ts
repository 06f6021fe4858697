import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { HydratedDocument, Types } from 'mongoose';
import { Schema as MongooseSchema } from 'mongoose';

import type { OwnedOptions } from '../../auth/index.js';

@Schema({ timestamps: true, collection: 'bucketlists' })
export class Bucketlist {
  @Prop({ required: true, trim: true })
  name!: string;

  /** Owner: set from the access token, never from a request body. */
  @Prop({ type: MongooseSchema.Types.ObjectId, ref: 'User', required: true })
  owner!: Types.ObjectId;

  createdAt!: Date;
  updatedAt!: Date;
}

export type BucketlistDocument = HydratedDocument<Bucketlist>;
export const BucketlistSchema = SchemaFactory.createForClass(Bucketlist);
// Newest first, per owner (users) and across owners (admins); also serves owner lookups.
BucketlistSchema.index({ owner: 1, createdAt: -1, _id: -1 });
BucketlistSchema.index({ createdAt: -1, _id: -1 });

/** Private: anyone but the owner or an admin gets 404, as if the list did not exist. */
export const BUCKETLIST_OWNERSHIP: OwnedOptions = {
  model: Bucketlist.name,
  ownerField: 'owner',
  visibility: 'private',
};

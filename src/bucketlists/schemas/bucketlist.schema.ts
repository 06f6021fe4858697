import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { HydratedDocument, Types } from 'mongoose';
import { Schema as MongooseSchema } from 'mongoose';

import type { OwnedOptions } from '../../auth/index.js';

@Schema({ timestamps: true, collection: 'bucketlists' })
export class Bucketlist {
  @Prop({ required: true, trim: true })
  name!: string;

  /** Owner: set from the access token, never from a request body. */
  @Prop({ type: MongooseSchema.Types.ObjectId, ref: 'User', required: true, index: true })
  owner!: Types.ObjectId;

  createdAt!: Date;
  updatedAt!: Date;
}

export type BucketlistDocument = HydratedDocument<Bucketlist>;
export const BucketlistSchema = SchemaFactory.createForClass(Bucketlist);

/** Private: anyone but the owner or an admin gets 404, as if the list did not exist. */
export const BUCKETLIST_OWNERSHIP: OwnedOptions = {
  model: Bucketlist.name,
  ownerField: 'owner',
  visibility: 'private',
};

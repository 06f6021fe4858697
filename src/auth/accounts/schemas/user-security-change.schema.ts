import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { Types } from 'mongoose';
import { Schema as MongooseSchema } from 'mongoose';

import { Role } from '../../core/roles.js';

/**
 * One admin decision about an account (role, active, deleted), inserted before the user document
 * is updated. Inserts are never lost, while on FerretDB an update of the user document can be
 * overwritten by a concurrent update of another field (read-modify-write): after every write to a
 * user, the latest decision per field is compared with the document and re-applied if it was lost.
 * Only the fields the decision changed are set.
 */
@Schema({ collection: 'user_security_changes', versionKey: false })
export class UserSecurityChange {
  @Prop({ type: MongooseSchema.Types.ObjectId, ref: 'User', required: true })
  user!: Types.ObjectId;

  @Prop({ type: String, enum: Role })
  role?: Role;

  @Prop()
  active?: boolean;

  @Prop({ type: Date })
  deletedAt?: Date;

  @Prop({ type: Date, required: true })
  at!: Date;
}

export const UserSecurityChangeSchema = SchemaFactory.createForClass(UserSecurityChange);
UserSecurityChangeSchema.index({ user: 1, at: -1 });

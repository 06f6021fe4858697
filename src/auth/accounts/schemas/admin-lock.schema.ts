import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * A lock held while a change that can take admin rights away runs (demote, disable, delete).
 * Taking it is an insert of a document with a fixed `_id`: the unique `_id` index makes exactly one
 * of concurrent inserts win, on FerretDB (whose updates are not atomic) as on MongoDB.
 * `expiresAt` lets a lock left behind by a crashed process be taken over.
 */
@Schema({ collection: 'admin_locks', versionKey: false })
export class AdminLock {
  @Prop({ type: String, required: true })
  _id!: string;

  /** Random per acquisition, so a holder only ever releases its own lock. */
  @Prop({ required: true })
  holder!: string;

  @Prop({ type: Date, required: true })
  expiresAt!: Date;
}

export const AdminLockSchema = SchemaFactory.createForClass(AdminLock);

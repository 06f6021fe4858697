import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { Types } from 'mongoose';
import { Schema as MongooseSchema } from 'mongoose';

/**
 * One security event, append-only: the kit inserts events and the retention sweep deletes old
 * ones; nothing updates them. `_id` is chosen when the event is recorded, so a batch retried after
 * an unclear failure cannot store an event twice (the second insert is a duplicate key).
 */
@Schema({ collection: 'audit_events', versionKey: false })
export class AuditEvent {
  @Prop({ type: MongooseSchema.Types.ObjectId, required: true })
  _id!: Types.ObjectId;

  @Prop({ type: Date, required: true })
  at!: Date;

  @Prop({ type: String, required: true })
  type!: string;

  /** A user id, `system` or `anonymous`. */
  @Prop({ type: String, required: true })
  actor!: string;

  /** The account the event concerns (a user id), null when none is known. */
  @Prop({ type: String, default: null })
  subject!: string | null;

  /** The session the event concerns or came from. */
  @Prop({ type: String })
  session?: string;

  @Prop({ type: String })
  ip?: string;

  @Prop({ type: String })
  userAgent?: string;

  /** The API process that recorded it (INSTANCE_ID). */
  @Prop({ type: String, required: true })
  instance!: string;

  @Prop({ type: MongooseSchema.Types.Mixed, default: {} })
  detail!: Record<string, unknown>;
}

export const AuditEventSchema = SchemaFactory.createForClass(AuditEvent);
// Newest first everywhere. Equality fields lead, then the sort (the `from`/`to` range is on `at`):
// every list, its keyset pages and the retention sweep's `at` range are index scans.
AuditEventSchema.index({ at: -1, _id: -1 });
AuditEventSchema.index({ subject: 1, at: -1, _id: -1 });
AuditEventSchema.index({ subject: 1, type: 1, at: -1, _id: -1 });
AuditEventSchema.index({ actor: 1, at: -1, _id: -1 });
AuditEventSchema.index({ type: 1, at: -1, _id: -1 });

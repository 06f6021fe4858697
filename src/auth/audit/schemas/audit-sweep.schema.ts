import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * "This period's retention sweep is taken": `_id` is the period, so of the instances that try to
 * insert it, exactly one succeeds (an insert guarded by the unique `_id` index is atomic on
 * FerretDB as on MongoDB; FerretDB has no TTL index to expire events by itself).
 */
@Schema({ collection: 'audit_sweeps', versionKey: false })
export class AuditSweep {
  /** `retention:<period number>`. */
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: Date, required: true })
  at!: Date;

  /** The instance that swept. */
  @Prop({ type: String, required: true })
  instance!: string;
}

export const AuditSweepSchema = SchemaFactory.createForClass(AuditSweep);
// Old leases are removed by the sweep itself.
AuditSweepSchema.index({ at: 1 });

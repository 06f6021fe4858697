import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * One document per request the per-IP limit on the auth routes let in, numbered per client:
 * `_id` is `<key>|<n>` for the client's n-th admitted request, so two instances can never take the
 * same number (an insert guarded by the unique `_id`, atomic on FerretDB and MongoDB alike).
 */
@Schema({ collection: 'rate_limit_slots', versionKey: false })
export class RateLimitSlot {
  /** `<key>|<n>`. */
  @Prop({ type: String, required: true })
  _id!: string;

  /** The client's key (see clientKey). */
  @Prop({ required: true })
  key!: string;

  /** The client's n-th admitted request, from 0. */
  @Prop({ required: true })
  n!: number;

  @Prop({ required: true })
  at!: Date;

  /** When it leaves the window; expired slots are deleted in bulk (FerretDB has no TTL indexes). */
  @Prop({ required: true })
  expiresAt!: Date;
}

export const RateLimitSlotSchema = SchemaFactory.createForClass(RateLimitSlot);
/** A client's highest number, read when an instance does not know it (ESR: key, then n). */
RateLimitSlotSchema.index({ key: 1, n: -1 });
RateLimitSlotSchema.index({ expiresAt: 1 });

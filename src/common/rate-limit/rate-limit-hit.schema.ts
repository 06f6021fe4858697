import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * One document per event counted by mongoRateLimitCounter (the per-key API limit's claims),
 * shared by every instance on the database. Counting inserted documents is exact under
 * concurrency on FerretDB and MongoDB alike, where a shared `$inc` counter can lose updates on
 * FerretDB.
 */
@Schema({ collection: 'rate_limit_hits', versionKey: false })
export class RateLimitHit {
  /** The client's key (see clientKey). */
  @Prop({ required: true })
  key!: string;

  @Prop({ required: true })
  at!: Date;

  /** When the hit leaves the window; expired hits are deleted in bulk (FerretDB has no TTL indexes). */
  @Prop({ required: true })
  expiresAt!: Date;
}

export const RateLimitHitSchema = SchemaFactory.createForClass(RateLimitHit);
RateLimitHitSchema.index({ key: 1, at: 1 });
RateLimitHitSchema.index({ expiresAt: 1 });

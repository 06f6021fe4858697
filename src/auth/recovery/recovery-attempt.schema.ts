import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/** One mail-sending or token request, inserted (atomic on FerretDB too) and counted in a window. */
@Schema({ collection: 'recovery_attempts', versionKey: false })
export class RecoveryAttempt {
  @Prop({ required: true })
  kind!: string;

  /** The address the request is about (lower-cased), when there is one. */
  @Prop({ type: String, default: null })
  account!: string | null;

  /**
   * clientKey(ip): the IP address, an IPv6 client's /64. Null for requests counted per address
   * only (signup's mail: the route has the per-IP auth rate limit, and an office behind one
   * address must not lose verification mails).
   */
  @Prop({ type: String, default: null })
  ip!: string | null;

  @Prop({ type: Date, required: true })
  at!: Date;
}

export const RecoveryAttemptSchema = SchemaFactory.createForClass(RecoveryAttempt);
RecoveryAttemptSchema.index({ kind: 1, account: 1, at: -1 });
RecoveryAttemptSchema.index({ ip: 1, at: -1 });

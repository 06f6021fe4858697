import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * One document per failed login. Counting documents in a time window is exact on FerretDB and
 * MongoDB alike, where a shared `$inc` counter could lose updates on FerretDB.
 */
@Schema({ collection: 'login_failures', versionKey: false })
export class LoginFailure {
  @Prop({ required: true })
  email!: string;

  /** The client's key (see clientKey): its IPv4 address, or its IPv6 /64. */
  @Prop({ required: true })
  ip!: string;

  /**
   * The client had no failure on this account yet: its guess was a first one, which goes
   * through the account-wide slowdown shared by all new clients.
   */
  @Prop({ required: true, default: false })
  first!: boolean;

  @Prop({ required: true })
  at!: Date;

  /**
   * The password check of this attempt is still running: it may yet succeed, so it makes other
   * attempts wait rather than be refused. Set to false once it failed; a record left pending
   * (its instance died mid-check) counts as a failure after PENDING_STALE_MS.
   */
  @Prop({ default: false })
  pending!: boolean;
}

export const LoginFailureSchema = SchemaFactory.createForClass(LoginFailure);
LoginFailureSchema.index({ email: 1, at: 1 });
LoginFailureSchema.index({ email: 1, ip: 1, at: 1 });
LoginFailureSchema.index({ email: 1, first: 1, at: 1 });
LoginFailureSchema.index({ ip: 1, at: 1 });

import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Schema as MongooseSchema, Types } from 'mongoose';

/**
 * An account at an OpenID Provider (its `sub`) linked to a user: signing in there signs in here.
 * One per provider and `sub` (the provider's stable id; the email may change there), and at most
 * one per user and provider.
 */
@Schema({ collection: 'identities', versionKey: false })
export class Identity {
  /** The provider's `id` in the settings. */
  @Prop({ required: true })
  provider!: string;

  @Prop({ required: true })
  sub!: string;

  /**
   * The issuer that vouched for `sub` (a `sub` is unique per issuer only): a sign-in whose ID
   * token names another issuer (the provider's settings changed) is not this identity. Null for
   * identities linked before it was stored.
   */
  @Prop({ type: String, default: null })
  issuer!: string | null;

  @Prop({ type: MongooseSchema.Types.ObjectId, required: true })
  user!: Types.ObjectId;

  /** The provider's email for the account when it was linked (display only: never matched). */
  @Prop({ type: String, default: null })
  email!: string | null;

  @Prop({ required: true })
  linkedAt!: Date;
}
export const IdentitySchema = SchemaFactory.createForClass(Identity);
// Sign-in: the identity of a provider account.
IdentitySchema.index({ provider: 1, sub: 1 }, { unique: true });
// The user's links (list, unlink, the delete cascade); one per provider.
IdentitySchema.index({ user: 1, provider: 1 }, { unique: true });

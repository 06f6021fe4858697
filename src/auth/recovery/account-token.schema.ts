import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { Types } from 'mongoose';
import { Schema as MongooseSchema } from 'mongoose';

export type TokenPurpose = 'password-reset' | 'verify-email' | 'email-change';

/**
 * A mailed single-use token, stored only as its SHA-256 hash. Valid while unexpired, unused, the
 * newest of its account and purpose, and issued to the account's current address (and, for a
 * reset, after its last password change).
 */
@Schema({ collection: 'account_tokens', versionKey: false })
export class AccountToken {
  @Prop({ required: true, unique: true })
  hash!: string;

  @Prop({ type: MongooseSchema.Types.ObjectId, ref: 'User', required: true })
  user!: Types.ObjectId;

  @Prop({ type: String, required: true })
  purpose!: TokenPurpose;

  /** The account's address when the token was mailed. */
  @Prop({ required: true })
  email!: string;

  /**
   * The account's credential version (User.credentialVersion) when the request was made (for an
   * email change: read with the hash its password check passed). A password change or reset
   * since voids the token, however late it was written.
   */
  @Prop({ type: String, default: null })
  credential!: string | null;

  /** Email change: the address being confirmed. */
  @Prop({ type: String })
  newEmail?: string;

  @Prop({ type: Date, required: true })
  createdAt!: Date;

  @Prop({ type: Date, required: true })
  expiresAt!: Date;
}

export const AccountTokenSchema = SchemaFactory.createForClass(AccountToken);
AccountTokenSchema.index({ user: 1, purpose: 1, createdAt: -1, _id: -1 });
AccountTokenSchema.index({ expiresAt: 1 });

/**
 * Consuming a token is inserting this record: its `_id` is the token's, so of two concurrent uses
 * exactly one insert succeeds (the unique `_id` index), on FerretDB (updates are not atomic) as on
 * MongoDB.
 */
@Schema({ collection: 'account_token_uses', versionKey: false })
export class AccountTokenUse {
  @Prop({ type: MongooseSchema.Types.ObjectId, required: true })
  _id!: Types.ObjectId;

  @Prop({ type: Date, required: true })
  expiresAt!: Date;
}

export const AccountTokenUseSchema = SchemaFactory.createForClass(AccountTokenUse);
AccountTokenUseSchema.index({ expiresAt: 1 });

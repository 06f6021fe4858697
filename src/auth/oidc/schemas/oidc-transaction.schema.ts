import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Schema as MongooseSchema, Types } from 'mongoose';

import type { AuthMethod } from '../../core/auth-methods.js';

/**
 * A sign-in or link waiting at the provider, or a link a signed-in user asked for that the browser
 * has not started yet. `_id` is the SHA-256 of the `state` (or of the link ticket): used once,
 * read by `_id` alone and claimed by deleting it. FerretDB has no TTL index: `expiresAt` is
 * compared on use and expired ones are purged on a timer.
 */
@Schema({ collection: 'oidc_transactions', versionKey: false })
export class OidcTransaction {
  @Prop({ type: String })
  _id!: string;

  @Prop({ type: String, enum: ['start', 'flow'], required: true })
  kind!: 'start' | 'flow';

  @Prop({ required: true })
  provider!: string;

  @Prop({ type: String, enum: ['login', 'link'], required: true })
  purpose!: 'login' | 'link';

  /** The signed-in user a link is for; null for a sign-in. */
  @Prop({ type: MongooseSchema.Types.ObjectId, default: null, index: true })
  user!: Types.ObjectId | null;

  /** Where the browser goes afterwards (on the allowlist). */
  @Prop({ required: true })
  redirect!: string;

  /** The ID token's expected `nonce` and the PKCE verifier (a flow only). */
  @Prop({ type: String, default: null })
  nonce!: string | null;

  @Prop({ type: String, default: null })
  codeVerifier!: string | null;

  /** SHA-256 of the browser-binding cookie set when the flow started (a flow only). */
  @Prop({ type: String, default: null })
  browser!: string | null;

  /** base64url(SHA-256) of the front end's verifier: passed on to the one-time code. */
  @Prop({ type: String, default: null })
  challenge!: string | null;

  @Prop({ required: true, index: true })
  expiresAt!: Date;
}
export const OidcTransactionSchema = SchemaFactory.createForClass(OidcTransaction);

/**
 * A finished sign-in waiting for the front end's `POST /auth/oidc/exchange`, or a finished link
 * waiting for `POST /auth/identities/confirm` by the signed-in user it is for; `_id` is the
 * SHA-256 of the one-time code sent in the redirect's fragment. Claimed by deleting it.
 */
@Schema({ collection: 'oidc_login_codes', versionKey: false })
export class OidcLoginCode {
  @Prop({ type: String })
  _id!: string;

  @Prop({ type: MongooseSchema.Types.ObjectId, required: true, index: true })
  user!: Types.ObjectId;

  @Prop({ required: true })
  provider!: string;

  /** The user's credential version when the provider vouched for them (see User). */
  @Prop({ type: String, default: null })
  credential!: string | null;

  /** Methods the session will carry (`fed`, and `mfa` when the provider's is trusted). */
  @Prop({ type: [String], required: true })
  methods!: AuthMethod[];

  /** `link`: the provider account (`sub`, `email`) to link to `user` once they confirm. */
  @Prop({ type: String, enum: ['login', 'link'], default: 'login' })
  purpose!: 'login' | 'link';

  @Prop({ type: String, default: null })
  sub!: string | null;

  @Prop({ type: String, default: null })
  issuer!: string | null;

  @Prop({ type: String, default: null })
  email!: string | null;

  /** The front end's challenge from `/start`: the exchange must show its verifier. */
  @Prop({ type: String, default: null })
  challenge!: string | null;

  @Prop({ required: true, index: true })
  expiresAt!: Date;
}
export const OidcLoginCodeSchema = SchemaFactory.createForClass(OidcLoginCode);

import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { Types } from 'mongoose';
import { Schema as MongooseSchema } from 'mongoose';

/**
 * One registered passkey (a WebAuthn public-key credential). The authenticator keeps the private
 * key; this is what verifies its assertions. `credentialId` is unique across all accounts: a
 * credential registered to one account is refused for every other.
 */
@Schema({ collection: 'passkey_credentials', timestamps: { createdAt: true, updatedAt: false } })
export class PasskeyCredential {
  /** The credential id the authenticator chose (base64url), as assertions name it. */
  @Prop({ required: true, unique: true })
  credentialId!: string;

  @Prop({ type: MongooseSchema.Types.ObjectId, required: true, index: true })
  owner!: Types.ObjectId;

  /** COSE public key, as the attestation carried it. */
  @Prop({ type: Buffer, required: true })
  publicKey!: Buffer;

  /** The signature counter of the last accepted assertion (0: the authenticator keeps none). */
  @Prop({ required: true, default: 0 })
  counter!: number;

  /** How the browser can reach the authenticator (`internal`, `hybrid`, `usb`…), as it reported. */
  @Prop({ type: [String], default: [] })
  transports!: string[];

  /**
   * `singleDevice`: the key cannot leave its authenticator (amr `hwk`); `multiDevice`: a synced
   * passkey that may be copied to the user's other devices (amr `swk`).
   */
  @Prop({ required: true })
  deviceType!: string;

  /** The authenticator says the key is backed up (synced) now. */
  @Prop({ required: true, default: false })
  backedUp!: boolean;

  /** Shown in the account's list; the owner renames it. */
  @Prop({ required: true })
  name!: string;

  @Prop({ type: Date, default: null })
  lastUsedAt!: Date | null;

  createdAt!: Date;
}
export const PasskeyCredentialSchema = SchemaFactory.createForClass(PasskeyCredential);

/**
 * A challenge handed out for one WebAuthn ceremony; `_id` is the SHA-256 of the challenge. Used
 * once (deleted when presented, whatever the outcome), valid until `expiresAt` (checked on use,
 * since FerretDB has no TTL index; expired ones are purged now and then), and bound to its
 * ceremony and to whoever asked: the account and session for registration and re-authentication,
 * the account and mfaToken for the second step of a login.
 */
@Schema({ collection: 'webauthn_challenges', versionKey: false })
export class WebAuthnChallenge {
  @Prop({ type: String })
  _id!: string;

  @Prop({ required: true })
  ceremony!: string;

  @Prop({ type: MongooseSchema.Types.ObjectId, default: null, index: true })
  user!: Types.ObjectId | null;

  /** The session (registration, re-authentication) or mfaToken hash (second step) it is bound to. */
  @Prop({ type: String, default: null })
  binding!: string | null;

  @Prop({ required: true, index: true })
  expiresAt!: Date;
}
export const WebAuthnChallengeSchema = SchemaFactory.createForClass(WebAuthnChallenge);

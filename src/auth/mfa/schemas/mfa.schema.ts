import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Schema as MongooseSchema, Types } from 'mongoose';

import type { AuthMethod } from '../../core/auth-methods.js';

/**
 * A user's TOTP factor; `_id` is the user's id (one factor per user, read by `_id` alone). Pending
 * until confirmed with a code. The secret is sealed with AES-256-GCM (SecretBox).
 */
@Schema({ collection: 'mfa_factors', timestamps: true })
export class MfaFactor {
  @Prop({ type: MongooseSchema.Types.ObjectId })
  _id!: Types.ObjectId;

  @Prop({ required: true })
  secret!: string;

  /** Changes with every enrolment; recovery codes of an earlier one stop counting. */
  @Prop({ required: true })
  enrolment!: string;

  @Prop({ type: Date, default: null })
  confirmedAt!: Date | null;
}
export const MfaFactorSchema = SchemaFactory.createForClass(MfaFactor);

/** One unused recovery code; `_id` is its keyed hash. Deleted when used. */
@Schema({ collection: 'mfa_recovery_codes', versionKey: false })
export class MfaRecoveryCode {
  @Prop({ type: String })
  _id!: string;

  @Prop({ type: MongooseSchema.Types.ObjectId, required: true, index: true })
  user!: Types.ObjectId;

  @Prop({ required: true })
  enrolment!: string;
}
export const MfaRecoveryCodeSchema = SchemaFactory.createForClass(MfaRecoveryCode);

/** A password check waiting for its second factor; `_id` is the SHA-256 of the mfaToken. */
@Schema({ collection: 'mfa_challenges', versionKey: false })
export class MfaChallenge {
  @Prop({ type: String })
  _id!: string;

  @Prop({ type: MongooseSchema.Types.ObjectId, required: true })
  user!: Types.ObjectId;

  /** The email the password was checked for: failures count against it, as for passwords. */
  @Prop({ required: true })
  email!: string;

  /**
   * The credential version (User.credentialVersion) read with the hash the check passed: a change
   * since then voids the challenge, and the session it opens is bound to it.
   */
  @Prop({ type: String, default: null })
  credential!: string | null;

  /** How the first step authenticated (`fed`: an OpenID Connect sign-in); absent: a password. */
  @Prop({ type: [String], default: undefined })
  firstFactor?: AuthMethod[];

  @Prop({ required: true, index: true })
  expiresAt!: Date;
}
export const MfaChallengeSchema = SchemaFactory.createForClass(MfaChallenge);

/**
 * Things that may happen once: an mfaToken finishing a login, a TOTP time step of a user, a
 * recovery code, an enrolment's confirmation. `_id` is the thing's key; inserting it is the one
 * write that is atomic on FerretDB and MongoDB alike, so of concurrent uses exactly one wins,
 * on any number of instances. `expiresAt` null: kept as long as the user's factor.
 */
@Schema({ collection: 'mfa_used', versionKey: false })
export class MfaUsed {
  @Prop({ type: String })
  _id!: string;

  @Prop({ type: MongooseSchema.Types.ObjectId, required: true, index: true })
  user!: Types.ObjectId;

  @Prop({ type: Date, default: null, index: true })
  expiresAt!: Date | null;
}
export const MfaUsedSchema = SchemaFactory.createForClass(MfaUsed);

/**
 * One second-factor code check (a TOTP or a recovery code), inserted before the code is checked
 * and counted with the others (FerretDB updates are not atomic; an insert is): of concurrent
 * checks only as many as the budget allows go ahead. A right code, or a server error during the
 * check, deletes its record again; a wrong one stays, as a failure, until `expiresAt`.
 */
@Schema({ collection: 'mfa_attempts', versionKey: false })
export class MfaAttempt {
  @Prop({ type: MongooseSchema.Types.ObjectId, required: true })
  user!: Types.ObjectId;

  /** The login challenge (its `_id`) the code was sent to; null for a signed-in user's code. */
  @Prop({ type: String, default: null })
  challenge!: string | null;

  @Prop({ required: true })
  at!: Date;

  @Prop({ required: true })
  expiresAt!: Date;
}
export const MfaAttemptSchema = SchemaFactory.createForClass(MfaAttempt);
// The account's failures in the window (the daily cap, the owner's notice, Retry-After).
MfaAttemptSchema.index({ user: 1, at: 1 });
// The failures of one login challenge.
MfaAttemptSchema.index({ challenge: 1 });
MfaAttemptSchema.index({ expiresAt: 1 });

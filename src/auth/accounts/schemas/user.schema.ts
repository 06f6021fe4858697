import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { HydratedDocument } from 'mongoose';

import { Role } from '../../core/roles.js';

@Schema({ timestamps: true, collection: 'users' })
export class User {
  /** Trimmed and lower-cased before it gets here; unique (race-safe through the index). */
  @Prop({ required: true, unique: true })
  email!: string;

  @Prop({ required: true, trim: true })
  name!: string;

  // Never selected unless asked for with `+passwordHash`. Absent for an account created by an
  // OpenID Connect sign-in until its owner sets one (password reset): no password then signs in.
  @Prop({ type: String, select: false })
  passwordHash?: string;

  @Prop({ type: String, enum: Role, default: Role.User })
  role!: Role;

  @Prop({ default: true })
  active!: boolean;

  /** A copy of "the TOTP second factor is on" for user views; mfa_factors decides at login. */
  @Prop({ default: false })
  mfaEnabled!: boolean;
  /** Set when a link mailed to `email` was used (verification, reset, email change). */
  @Prop({ default: false })
  emailVerified!: boolean;

  /** Tokens issued before this instant are refused (password change). */
  @Prop({ type: Date, default: null })
  passwordChangedAt!: Date | null;

  /**
   * Random, new with every password hash (change or reset); null until the first change.
   * Read in the same document read as the hash at a password check and stored on the session
   * (and MFA challenge) it opens: a session whose credential is not the current one is refused,
   * so a login that checked the old password while a change ended every session keeps none.
   * Random rather than a time: two changes within one second stay apart.
   */
  @Prop({ type: String, default: null })
  credentialVersion!: string | null;

  /**
   * Set first when an admin deletes the account: from then on the user counts as gone (no login,
   * no refresh, 401 on every token) while the cascade runs and until the document is deleted.
   */
  @Prop({ type: Date, default: null })
  deletedAt!: Date | null;

  createdAt!: Date;
  updatedAt!: Date;
}

export type UserDocument = HydratedDocument<User>;
export const UserSchema = SchemaFactory.createForClass(User);
// The admin list (oldest first, `_id` breaks ties) under each filter it accepts (role, active,
// both, none); the first also serves the last-active-admin count.
UserSchema.index({ role: 1, active: 1, createdAt: 1, _id: 1 });
UserSchema.index({ role: 1, createdAt: 1, _id: 1 });
UserSchema.index({ active: 1, createdAt: 1, _id: 1 });
UserSchema.index({ createdAt: 1, _id: 1 });

import { randomBytes } from 'node:crypto';

import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { HydratedDocument, Types } from 'mongoose';
import { Schema as MongooseSchema } from 'mongoose';

import type { AuthMethod } from '../core/auth-methods.js';

/** 128 random bits, base64url (22 characters): an attacker cannot derive one from their own. */
export const newSessionId = (): string => randomBytes(16).toString('base64url');

/** The shape `newSessionId` produces (16 bytes: the last character carries 2 bits). */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{21}[AQgw]$/;

/** One login: access tokens carry its id (`sid`), refresh tokens belong to it. Ending it deletes it. */
@Schema({ collection: 'sessions', timestamps: true })
export class Session {
  /** Random, not a driver ObjectId: ObjectIds are mostly timestamp and counter, so guessable. */
  @Prop({ type: String, default: newSessionId })
  _id!: string;

  @Prop({ type: MongooseSchema.Types.ObjectId, required: true, index: true })
  user!: Types.ObjectId;

  /**
   * Sliding: every refresh moves it forward, but never past `endsAt`. Expired sessions are
   * filtered out, then purged.
   */
  @Prop({ required: true, index: true })
  expiresAt!: Date;

  /** Absolute end, fixed at login (`sessionMaxAgeSeconds`): no refresh extends a session past it. */
  @Prop({ required: true })
  endsAt!: Date;

  /**
   * The credential version (User.credentialVersion) the login checked; the session is refused
   * once it is not the account's current one. Null (or absent: sessions from before it) matches
   * an account whose password never changed since.
   */
  @Prop({ type: String, default: null })
  credential!: string | null;

  /**
   * How the login authenticated the user (RFC 8176 values). A later re-authentication is kept in
   * session_authentications instead (written apart: see there).
   */
  @Prop({ type: [String], default: undefined })
  methods?: AuthMethod[];

  /** Client address at login, shown in the session list (absent on sessions from before it). */
  @Prop({ type: String })
  ip?: string;

  /** User-Agent header at login (cut to USER_AGENT_MAX_LENGTH), shown in the session list. */
  @Prop({ type: String })
  userAgent?: string;

  createdAt!: Date;
}

export type SessionDocument = HydratedDocument<Session>;
export const SessionSchema = SchemaFactory.createForClass(Session);
// A user's session list (sessions of the current credential only), newest first.
SessionSchema.index({ user: 1, credential: 1, createdAt: -1, _id: -1 });

/**
 * One issued refresh token, stored only as a SHA-256 hash. `parent` is unique: a token can get
 * at most one successor, and that unique insert is the rotation's atomic step on FerretDB and
 * MongoDB alike (FerretDB's updates are not atomic, so a compare-and-set would not be enough).
 */
@Schema({ collection: 'refresh_tokens', timestamps: { createdAt: true, updatedAt: false } })
export class RefreshToken {
  @Prop({ required: true, unique: true })
  hash!: string;

  @Prop({ type: String, required: true, index: true })
  session!: string;

  @Prop({ type: MongooseSchema.Types.ObjectId, required: true, index: true })
  user!: Types.ObjectId;

  /** `session:<id>` for the first token of a session, else the id of the token it replaced. */
  @Prop({ required: true, unique: true })
  parent!: string;

  @Prop({ required: true, index: true })
  expiresAt!: Date;
}

export type RefreshTokenDocument = HydratedDocument<RefreshToken>;
export const RefreshTokenSchema = SchemaFactory.createForClass(RefreshToken);

export const USER_AGENT_MAX_LENGTH = 512;

/**
 * When a session was last used, kept apart from the session: FerretDB updates rewrite the whole
 * document, so a "last used" write landing with a refresh could undo the refresh's new expiry.
 * Written at most once a minute per session and instance; `_id` is the session id.
 */
@Schema({ collection: 'session_activity', versionKey: false })
export class SessionActivity {
  @Prop({ type: String })
  _id!: string;

  @Prop({ required: true })
  lastUsedAt!: Date;
}

export const SessionActivitySchema = SchemaFactory.createForClass(SessionActivity);

/**
 * How and when a session last re-authenticated its user (its login is on the session itself),
 * carried into each access token as `auth_time` and `amr`. Apart from the session because
 * FerretDB updates rewrite the whole document: a refresh sliding the session's expiry could undo
 * a re-authentication landing at the same moment. `_id` is the session id; only login and
 * re-authentication write it.
 */
@Schema({ collection: 'session_authentications', versionKey: false })
export class SessionAuthentication {
  @Prop({ type: String })
  _id!: string;

  /** Whose session: ending all of a user's sessions deletes these too. */
  @Prop({ type: MongooseSchema.Types.ObjectId, required: true, index: true })
  user!: Types.ObjectId;

  @Prop({ required: true, index: true })
  at!: Date;

  @Prop({ type: [String], required: true })
  methods!: AuthMethod[];
}

export const SessionAuthenticationSchema = SchemaFactory.createForClass(SessionAuthentication);

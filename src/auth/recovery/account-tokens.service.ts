import { createHash, randomBytes } from 'node:crypto';

import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, trusted } from 'mongoose';

import type { AuthUserRecord } from '../accounts/users.service.js';
import { isDuplicateKeyError } from '../shared/duplicate-key.js';
import type { TokenPurpose } from './account-token.schema.js';
import { AccountToken, AccountTokenUse } from './account-token.schema.js';

/** 32 random bytes = 256 bits, base64url (43 characters). */
const TOKEN_BYTES = 32;
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const PURGE_EVERY_MS = 15 * 60_000;

export const TOKEN_TTL_MS: Record<TokenPurpose, number> = {
  'password-reset': 30 * 60_000,
  'verify-email': 24 * 3600_000,
  'email-change': 60 * 60_000,
};

export interface ValidToken {
  id: string;
  userId: string;
  newEmail?: string;
  /** The credential version the token was issued under. */
  credential: string | null;
}

/** What a session-holder can set going by mail; ended with every "end all sessions". */
const PENDING_PURPOSES: TokenPurpose[] = ['email-change', 'verify-email'];

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Issues and checks mailed tokens. The token itself is only ever in the mail; the database keeps
 * its hash. Issuing a new one supersedes older ones of the same purpose (only the newest is valid).
 */
@Injectable()
export class AccountTokensService implements OnModuleInit, OnModuleDestroy {
  private purgeTimer?: NodeJS.Timeout;

  constructor(
    @InjectModel(AccountToken.name) private readonly tokens: Model<AccountToken>,
    @InjectModel(AccountTokenUse.name) private readonly uses: Model<AccountTokenUse>,
  ) {}

  async onModuleInit(): Promise<void> {
    await Promise.all([this.tokens.init(), this.uses.init()]);
    this.purgeTimer = setInterval(() => void this.purge(), PURGE_EVERY_MS);
    this.purgeTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.purgeTimer);
  }

  /**
   * `credential`: the credential version the request was checked against (default: the
   * account's current one); the token is void once the account's is another.
   */
  async issue(
    user: AuthUserRecord,
    purpose: TokenPurpose,
    newEmail?: string,
    credential: string | null = user.credentialVersion,
  ): Promise<string> {
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const now = Date.now();
    await this.tokens.create({
      hash: hashOf(token),
      user: user.id,
      purpose,
      email: user.email,
      credential,
      newEmail,
      createdAt: new Date(now),
      expiresAt: new Date(now + TOKEN_TTL_MS[purpose]),
    });
    return token;
  }

  /**
   * The token's record when it may still be used by `user` (found by the caller from `userId`);
   * null for anything else: unknown, other purpose, expired, superseded, used, issued to another
   * address, or (reset) issued before the password last changed.
   */
  async find(
    token: string,
    purpose: TokenPurpose,
  ): Promise<(ValidToken & { email: string; createdAt: Date }) | null> {
    if (!TOKEN_PATTERN.test(token)) return null;
    const doc = await this.tokens.findOne({ hash: hashOf(token) }).lean();
    if (!doc || doc.purpose !== purpose || doc.expiresAt.getTime() <= Date.now()) return null;
    const newest = await this.tokens
      .findOne({ user: doc.user, purpose })
      .sort({ createdAt: -1, _id: -1 })
      .lean();
    if (!newest || !newest._id.equals(doc._id)) return null;
    if (await this.uses.exists({ _id: doc._id })) return null;
    return {
      id: doc._id.toString(),
      userId: doc.user.toString(),
      newEmail: doc.newEmail,
      credential: doc.credential ?? null,
      email: doc.email,
      createdAt: doc.createdAt,
    };
  }

  /** True for exactly one caller per token, however many use it at once. */
  async consume(id: string): Promise<boolean> {
    try {
      await this.uses.create({ _id: id, expiresAt: new Date(Date.now() + 24 * 3600_000) });
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  /** Ends every open token of the account (e.g. after the password changed). */
  async revokeAll(userId: string): Promise<void> {
    await this.tokens.deleteMany({ user: userId });
  }

  /** Ends the account's pending email-change and verification links. */
  async revokePending(userId: string): Promise<void> {
    await this.tokens.deleteMany({ user: userId, purpose: trusted({ $in: PENDING_PURPOSES }) });
  }

  private async purge(): Promise<void> {
    const past = trusted({ $lte: new Date() });
    await Promise.all([
      this.tokens.deleteMany({ expiresAt: past }),
      // A use record outlives its token (24 h > every token's lifetime), so a purged token
      // cannot be replayed into a fresh record.
      this.uses.deleteMany({ expiresAt: past }),
    ]).catch(() => undefined);
  }
}

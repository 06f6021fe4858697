import { createHash } from 'node:crypto';

import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, trusted } from 'mongoose';

import { WebAuthnChallenge } from './schemas/passkey-credential.schema.js';

/** How long a challenge may be answered (WebAuthn's timeout says the same to the browser). */
export const CHALLENGE_TTL_MS = 5 * 60 * 1000;
const PURGE_INTERVAL_MS = 15 * 60 * 1000;

/** The ceremony a challenge was handed out for; it answers no other. */
export type Ceremony = 'registration' | 'login' | 'second_factor' | 'reauthentication';

/** Who asked for the challenge: only they may answer it (none for a usernameless login). */
export interface ChallengeOwner {
  user: string | null;
  /** The session (registration, re-authentication) or mfaToken hash (second step). */
  binding: string | null;
}

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

/**
 * Server-side WebAuthn challenges: random (the library's 32 bytes), stored by their hash, single
 * use, 5 minutes, bound to the ceremony and whoever asked. FerretDB has no TTL index: expiry is a
 * comparison on use, and expired ones are purged every 15 minutes.
 */
@Injectable()
export class WebAuthnChallenges implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(WebAuthnChallenges.name);
  private purgeTimer?: NodeJS.Timeout;

  constructor(
    @InjectModel(WebAuthnChallenge.name) private readonly challenges: Model<WebAuthnChallenge>,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.challenges.init();
    this.purgeTimer = setInterval(() => void this.purgeExpired(), PURGE_INTERVAL_MS);
    this.purgeTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.purgeTimer);
  }

  async store(challenge: string, ceremony: Ceremony, owner: ChallengeOwner): Promise<void> {
    await this.challenges.create({
      _id: sha256(challenge),
      ceremony,
      user: owner.user,
      binding: owner.binding,
      expiresAt: new Date(Date.now() + CHALLENGE_TTL_MS),
    });
  }

  /**
   * Uses the challenge up, whatever happens next, and tells whether it was a live one of this
   * ceremony handed to `owner`. A read by `_id` then a delete by `_id` whose count must be 1: of
   * concurrent uses exactly one deletes it (on FerretDB too, where a find-and-modify is not
   * atomic), so a challenge is answered once.
   */
  async consume(challenge: string, ceremony: Ceremony, owner: ChallengeOwner): Promise<boolean> {
    const id = sha256(challenge);
    const found = await this.challenges.findById(id).lean();
    if (!found) return false;
    const { deletedCount } = await this.challenges.deleteOne({ _id: id });
    if (deletedCount !== 1) return false;
    return (
      found.expiresAt.getTime() > Date.now() &&
      found.ceremony === ceremony &&
      (found.user?.toString() ?? null) === owner.user &&
      (found.binding ?? null) === owner.binding
    );
  }

  /** Every challenge handed to the user (the account is being deleted). */
  async forget(userId: string): Promise<void> {
    await this.challenges.deleteMany({ user: userId });
  }

  private async purgeExpired(): Promise<void> {
    try {
      await this.challenges.deleteMany({ expiresAt: trusted({ $lte: new Date() }) });
    } catch (error) {
      this.logger.warn(`WebAuthn challenge purge failed: ${(error as Error).message}`);
    }
  }
}

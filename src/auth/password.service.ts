import { Inject, Injectable } from '@nestjs/common';
import bcrypt from 'bcrypt';
import { randomBytes } from 'node:crypto';
import type { AuthModuleOptions } from './auth.options.js';
import { AUTH_OPTIONS } from './auth.options.js';

export const MIN_BCRYPT_ROUNDS = 10;

/** bcrypt, always async (native bcrypt hashes off the event loop). */
@Injectable()
export class PasswordService {
  private readonly rounds: number;
  /** Compared against when the email is unknown, so both failures cost the same time. */
  private readonly dummyHash: Promise<string>;

  constructor(@Inject(AUTH_OPTIONS) options: AuthModuleOptions) {
    this.rounds = Math.max(options.bcryptRounds ?? 12, MIN_BCRYPT_ROUNDS);
    this.dummyHash = bcrypt.hash(randomBytes(16).toString('hex'), this.rounds);
  }

  hash(password: string): Promise<string> {
    return bcrypt.hash(password, this.rounds);
  }

  /** `hash` undefined means "no such user": compare against the dummy and fail. */
  async verify(password: string, hash: string | undefined): Promise<boolean> {
    if (hash === undefined) {
      await bcrypt.compare(password, await this.dummyHash);
      return false;
    }
    return bcrypt.compare(password, hash);
  }
}

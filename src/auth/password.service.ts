import { createHmac, randomBytes } from 'node:crypto';

import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import bcrypt from 'bcrypt';

import type { AuthModuleOptions } from './auth.options.js';
import { AUTH_OPTIONS } from './auth.options.js';
import type { PasswordPolicy } from './password-policy.js';
import { policyViolations } from './password-policy.js';

export const MIN_BCRYPT_ROUNDS = 10;

/** bcrypt reads at most this many bytes of its input and silently ignores the rest. */
const BCRYPT_MAX_BYTES = 72;

/**
 * Fixed, public HMAC key: it only separates this pre-hash from a bare SHA-384 of the password, so
 * an unsalted SHA-384 leaked elsewhere cannot be tried against our bcrypt hashes ("shucking").
 */
const PREHASH_KEY = 'guardhouse/bcrypt-prehash/v1';

/**
 * What bcrypt is given. Up to 72 UTF-8 bytes: the password itself, so every existing hash stays
 * valid. Longer: HMAC-SHA-384 of it in base64 (64 ASCII bytes, never a NUL, which would end
 * bcrypt's C string), so every byte of a long passphrase counts instead of being truncated away.
 * A ≤72-byte password colliding with such a base64 string would need a SHA-384 preimage.
 */
export function bcryptInput(password: string): string {
  if (Buffer.byteLength(password, 'utf8') <= BCRYPT_MAX_BYTES) return password;
  return createHmac('sha384', PREHASH_KEY).update(password, 'utf8').digest('base64');
}

/** bcrypt, always async (native bcrypt hashes off the event loop), and the password policy. */
@Injectable()
export class PasswordService {
  private readonly rounds: number;
  private readonly policy: PasswordPolicy;
  /** Compared against when the email is unknown, so both failures cost the same time. */
  private readonly dummyHash: Promise<string>;

  constructor(@Inject(AUTH_OPTIONS) options: AuthModuleOptions) {
    this.rounds = Math.max(options.bcryptRounds ?? 12, MIN_BCRYPT_ROUNDS);
    this.policy = options.passwordPolicy ?? 'length';
    this.dummyHash = bcrypt.hash(randomBytes(16).toString('hex'), this.rounds);
  }

  /**
   * The rules of the configured policy that the DTO's shared checks (length, common passwords)
   * cannot know: 400 naming each missing rule, in the ValidationPipe's shape.
   */
  assertAllowed(password: string, field: string): void {
    const problems = policyViolations(this.policy, password, field);
    if (problems.length > 0) throw new BadRequestException(problems);
  }

  hash(password: string): Promise<string> {
    return bcrypt.hash(bcryptInput(password), this.rounds);
  }

  /** `hash` undefined means "no such user": compare against the dummy and fail. */
  async verify(password: string, hash: string | undefined): Promise<boolean> {
    if (hash === undefined) {
      await bcrypt.compare(bcryptInput(password), await this.dummyHash);
      return false;
    }
    return bcrypt.compare(bcryptInput(password), hash);
  }
}

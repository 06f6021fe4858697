import { BadRequestException } from '@nestjs/common';

import type { UsersService } from './accounts/users.service.js';
import type { AuthUser } from './core/auth-user.js';
import type { PasswordService } from './password.service.js';
import type { LoginAttempt, LoginThrottleService } from './throttling/login-throttle.service.js';

/** What checking a signed-in user's password needs. */
export interface AccountPasswordChecks {
  passwords: PasswordService;
  throttle: LoginThrottleService;
  users: UsersService;
}

/** An admitted check of the account's password, and the credential version it was checked against. */
export interface CheckedAccountPassword {
  attempt: LoginAttempt;
  /** See User.credentialVersion: a later password change moves it on. */
  credentialVersion: string | null;
}

/**
 * A signed-in user's password, checked like a login: refused at once when the hashing queue is
 * full (no guess counted), counted in the login throttle, 400 `<field> is incorrect` when wrong
 * (the attempt stays a failure). Answers the admitted attempt; the caller settles it (`succeeded`,
 * `reset`, or keeps it counted until its later steps pass).
 */
export async function checkAccountPassword(
  { passwords, throttle, users }: AccountPasswordChecks,
  user: AuthUser,
  password: string,
  ip: string,
  field = 'password',
): Promise<CheckedAccountPassword> {
  passwords.assertHashingCapacity();
  const attempt = await throttle.recordAttempt(user.email, ip);
  const credential = await users.getCredential(user.id);
  const valid = await throttle.settledBy(
    attempt,
    async () => credential !== null && (await passwords.verify(password, credential.passwordHash)),
  );
  if (!valid || credential === null) {
    await throttle.failed(attempt);
    throw new BadRequestException(`${field} is incorrect`);
  }
  return { attempt, credentialVersion: credential.credentialVersion };
}

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

/**
 * A signed-in user's password, checked like a login: refused at once when the hashing queue is
 * full (no guess counted), counted in the login throttle, 400 when wrong (the attempt stays a
 * failure). Answers the admitted attempt; the caller settles it (`succeeded`, `reset`, or keeps it
 * counted until its later steps pass).
 */
export async function checkAccountPassword(
  { passwords, throttle, users }: AccountPasswordChecks,
  user: AuthUser,
  password: string,
  ip: string,
): Promise<LoginAttempt> {
  passwords.assertHashingCapacity();
  const attempt = await throttle.recordAttempt(user.email, ip);
  const hash = await users.getPasswordHash(user.id);
  const valid = await throttle.settledBy(
    attempt,
    async () => hash !== null && (await passwords.verify(password, hash)),
  );
  if (!valid) {
    await throttle.failed(attempt);
    throw new BadRequestException('password is incorrect');
  }
  return attempt;
}

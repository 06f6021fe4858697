import { ApiProperty } from '@nestjs/swagger';

import type { AuthUser } from '../../core/auth-user.js';
import { Role } from '../../core/roles.js';

/** The public view of a user: never a password or hash. */
export class UserResponseDto {
  id!: string;
  email!: string;
  name!: string;
  role!: Role;
  active!: boolean;
  /** The second factor (TOTP) is on. */
  mfaEnabled!: boolean;
  /** A link mailed to the address was used. */
  emailVerified!: boolean;
  // ISO 8601 strings, as JSON writes a Date, made here and remembered (see isoString).
  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time' })
  updatedAt!: string;
}

/** Remembered ISO strings, by time value; cleared when full (about 1 MB). */
const isoStrings = new Map<number, string>();
const MAX_ISO_STRINGS = 10_000;

/**
 * `date.toISOString()`, remembered: a user's dates rarely change, and formatting two of them
 * (in toISOString or in JSON.stringify's call of toJSON) was 4–7% of GET /users/me, the hottest
 * route, in CPU profiles. Keyed by the time value, never the Date object, which could be changed.
 */
function isoString(date: Date): string {
  const time = date instanceof Date ? date.getTime() : NaN;
  if (Number.isNaN(time)) {
    // A document written without timestamps (by hand, through the driver): what JSON.stringify
    // wrote for its Date before, null for an invalid one and nothing for a missing one; no 500.
    return (date instanceof Date ? null : undefined) as unknown as string;
  }
  let text = isoStrings.get(time);
  if (text === undefined) {
    text = date.toISOString();
    if (isoStrings.size >= MAX_ISO_STRINGS) isoStrings.clear();
    isoStrings.set(time, text);
  }
  return text;
}

export function toUserResponse(user: AuthUser): UserResponseDto {
  const { id, email, name, role, active, emailVerified, createdAt, updatedAt } = user;
  return {
    id,
    email,
    name,
    role,
    active,
    emailVerified,
    mfaEnabled: user.mfaEnabled ?? false,
    createdAt: isoString(createdAt),
    updatedAt: isoString(updatedAt),
  };
}

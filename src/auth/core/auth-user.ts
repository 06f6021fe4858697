import type { AuthMethod } from './auth-methods.js';
import { Role } from './roles.js';
import type { ApiKeyScope } from './scopes.js';

/** The API key a request was authenticated with (see docs/api-keys.md). */
export interface ApiKeyAuth {
  /** The key's public id. */
  id: string;
  /** Its scopes that the owner's current role allows (a key never exceeds its owner). */
  scopes: ApiKeyScope[];
}

/** The user loaded for the current request (never taken from the token alone). */
export interface AuthUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  active: boolean;
  /** A link mailed to `email` was used; the configured admin counts as verified. */
  emailVerified: boolean;
  createdAt: Date;
  updatedAt: Date;
  /** The second factor (TOTP) is on. */
  mfaEnabled?: boolean;
  /** The session of the access token this request came with. */
  sessionId?: string;
  /**
   * When that session last authenticated the user (ms since the epoch, from the token's
   * `auth_time`) and how (`amr`); absent on tokens issued before these claims existed.
   */
  authTime?: number;
  amr?: AuthMethod[];
  /** Set when the request came with an API key instead of an access token (no session then). */
  apiKey?: ApiKeyAuth;
}

/** Fastify and Express requests both carry these once the JwtAuthGuard has run. */
export interface AuthRequest {
  user?: AuthUser;
  method?: string;
  headers: Record<string, string | string[] | undefined>;
  params: Record<string, string | undefined>;
  /** Set by the OwnershipGuard: the document it loaded and checked. */
  ownedResource?: unknown;
}

/**
 * The role a request acts with: the user's, except that a request made with an API key acts as an
 * admin only when the key holds the `admin` scope (an admin's `todos:write` key edits the owner's
 * own todos, never everyone's). Every role and ownership check reads this, never `user.role`.
 */
export function actingRole(user: AuthUser): Role {
  if (user.apiKey !== undefined && !user.apiKey.scopes.includes('admin')) return Role.User;
  return user.role;
}

/** Whether the request acts as an admin (see actingRole). */
export const actsAsAdmin = (user: AuthUser | undefined): boolean =>
  user !== undefined && actingRole(user) === Role.Admin;

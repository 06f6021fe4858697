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
   * `auth_time`) and how (`amr`); undefined on tokens issued before these claims existed.
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

/** How this request authenticated: a session's access token, or an API key. */
export type AuthUserCredential = Pick<AuthUser, 'sessionId' | 'authTime' | 'amr' | 'apiKey'>;

/**
 * The request's user: the account's fields (an account record may carry more, such as the
 * password's version: they are left out) and how the request authenticated, written out field by
 * field. On Node 20 an object spread followed by more properties (`{ ...account, sessionId }`)
 * costs about 2.5 µs and yields an object that every later read on the request pays for:
 * `/users/me` used 16–43 % less CPU in two A/B runs once the principals were built this way
 * (docs/benchmark.md). `satisfies` turns a field added to AuthUser into a compile error here
 * (`npm run typecheck`) until it is copied. What the request did not authenticate with is
 * undefined (present as a key), which nothing reads differently from absent.
 */
export function authUser(
  account: Omit<AuthUser, keyof AuthUserCredential>,
  credential: AuthUserCredential,
): AuthUser {
  return {
    id: account.id,
    email: account.email,
    name: account.name,
    role: account.role,
    active: account.active,
    emailVerified: account.emailVerified,
    mfaEnabled: account.mfaEnabled,
    createdAt: account.createdAt,
    updatedAt: account.updatedAt,
    sessionId: credential.sessionId,
    authTime: credential.authTime,
    amr: credential.amr,
    apiKey: credential.apiKey,
  } satisfies Record<keyof AuthUser, unknown>;
}

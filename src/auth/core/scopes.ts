import { Role } from './roles.js';

/**
 * The API-key scope catalogue: every scope a key may hold, in one place. A route opens to keys
 * only by naming one of these with `@Scopes(...)`; a route that names none is closed to keys.
 */
export const API_KEY_SCOPES = [
  'movies:read',
  'movies:write',
  'books:read',
  'books:write',
  'todos:read',
  'todos:write',
  'bucketlists:read',
  'bucketlists:write',
  'account:read',
  'admin',
] as const;

export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** Scopes only an account with this role may put on a key (and use: the role is checked per request). */
export const SCOPE_ROLES: Partial<Record<ApiKeyScope, Role>> = { admin: Role.Admin };

/** Whether an account with `role` may hold `scope`. */
export function scopeAllowedFor(scope: ApiKeyScope, role: Role): boolean {
  const required = SCOPE_ROLES[scope];
  return required === undefined || required === role;
}

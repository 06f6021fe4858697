import { ForbiddenException } from '@nestjs/common';
import type { QueryFilter } from 'mongoose';

import type { AuthUser } from '../core/auth-user.js';
import { actsAsAdmin } from '../core/auth-user.js';
import { resolveUserIdOrMe } from '../shared/decorators/user-id-or-me.decorator.js';

export interface OwnerScopeOptions {
  /** What an admin who names no owner sees: everyone's items, or only their own. */
  adminDefault: 'all' | 'own';
  /** The 403 message for a non-admin who names another owner. */
  refusal?: string;
}

/**
 * Whose items a signed-in caller may list: the owner id to filter on, or `undefined` for
 * everyone's. Anyone else's items are an admin's privilege: a non-admin always gets their own,
 * and naming another owner (`requested`, a user id or `me`) is a 403, not a silent narrowing.
 * For private lists; a resource whose documents are public one by one uses `listVisible`.
 */
export function listOwner(
  user: AuthUser,
  requested: string | undefined,
  options: OwnerScopeOptions,
): string | undefined {
  const owner = requested === undefined ? undefined : resolveUserIdOrMe(requested, user, 'owner');
  if (actsAsAdmin(user)) return owner ?? (options.adminDefault === 'own' ? user.id : undefined);
  if (owner !== undefined && owner !== user.id) {
    throw new ForbiddenException(options.refusal ?? "Only an admin may list another user's items");
  }
  return user.id;
}

/** The `@Owned` options of a resource whose documents are public or private one by one. */
export interface VisibleScope {
  ownerField: string;
  /** The boolean path `@Owned({ readableBy })` names: `true` is visible to anyone. */
  readableBy: string;
}

/**
 * The filter for a list of what the caller may see, matching what `@Owned({ readableBy })`
 * lets them read one by one: anonymous → the public documents; a user → the public ones and
 * their own; an admin → everything. Naming an owner (`requested`, a user id or `me`) narrows
 * it to that owner's documents: all of them for the owner and admins, the public ones for
 * anyone else (not a 403: those are visible anyway). `me` without a caller is a 401.
 */
export function listVisible<T>(
  user: AuthUser | undefined,
  scope: VisibleScope,
  requested?: string,
): QueryFilter<T> {
  const visible = { [scope.readableBy]: true };
  const owner = requested === undefined ? undefined : resolveUserIdOrMe(requested, user, 'owner');
  const admin = actsAsAdmin(user);
  let filter: QueryFilter<T> = visible;
  if (owner !== undefined) {
    const seesAll = admin || owner === user?.id;
    filter = seesAll ? { [scope.ownerField]: owner } : { [scope.ownerField]: owner, ...visible };
  } else if (admin) {
    filter = {};
  } else if (user) {
    filter = { $or: [visible, { [scope.ownerField]: user.id }] };
  }
  return filter;
}

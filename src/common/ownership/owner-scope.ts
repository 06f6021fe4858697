import { ForbiddenException } from '@nestjs/common';

import type { AuthUser } from '../../auth/index.js';
import { Role } from '../../auth/index.js';
import { resolveUserIdOrMe } from '../decorators/user-id-or-me.decorator.js';

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
 */
export function listOwner(
  user: AuthUser,
  requested: string | undefined,
  options: OwnerScopeOptions,
): string | undefined {
  const owner = requested === undefined ? undefined : resolveUserIdOrMe(requested, user, 'owner');
  if (user.role === Role.Admin)
    return owner ?? (options.adminDefault === 'own' ? user.id : undefined);
  if (owner !== undefined && owner !== user.id) {
    throw new ForbiddenException(options.refusal ?? "Only an admin may list another user's items");
  }
  return user.id;
}

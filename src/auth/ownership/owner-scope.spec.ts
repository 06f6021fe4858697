import { ForbiddenException, UnauthorizedException } from '@nestjs/common';

import type { AuthUser } from '../core/auth-user.js';
import { Role } from '../core/roles.js';
import { listOwner, listVisible } from './owner-scope.js';

const USER_ID = 'aaaaaaaaaaaaaaaaaaaaaaaa';
const OTHER_ID = 'bbbbbbbbbbbbbbbbbbbbbbbb';
const as = (role: Role): AuthUser => ({ id: USER_ID, role }) as AuthUser;

describe('listOwner', () => {
  it('gives a non-admin their own items, whatever the default, and accepts me or their id', () => {
    for (const requested of [undefined, 'me', 'ME', USER_ID, USER_ID.toUpperCase()]) {
      expect(listOwner(as(Role.User), requested, { adminDefault: 'all' })).toBe(USER_ID);
    }
  });

  it('refuses a non-admin who names another owner with 403', () => {
    expect(() =>
      listOwner(as(Role.User), OTHER_ID, { adminDefault: 'own', refusal: 'Not yours' }),
    ).toThrow(new ForbiddenException('Not yours'));
  });

  it('lets an admin name anyone, and applies the default when nobody is named', () => {
    const admin = as(Role.Admin);
    expect(listOwner(admin, OTHER_ID, { adminDefault: 'own' })).toBe(OTHER_ID);
    expect(listOwner(admin, 'me', { adminDefault: 'all' })).toBe(USER_ID);
    expect(listOwner(admin, undefined, { adminDefault: 'all' })).toBeUndefined();
    expect(listOwner(admin, undefined, { adminDefault: 'own' })).toBe(USER_ID);
  });
});

describe('listVisible (documents public or private one by one)', () => {
  const scope = { ownerField: 'owner', readableBy: 'isPublic' };
  const user = as(Role.User);
  const admin = as(Role.Admin);

  it('gives anonymous callers the public documents only', () => {
    expect(listVisible(undefined, scope)).toEqual({ isPublic: true });
  });

  it('gives a user the public documents and their own, private ones included', () => {
    expect(listVisible(user, scope)).toEqual({
      $or: [{ isPublic: true }, { owner: USER_ID }],
    });
  });

  it('gives an admin everything', () => {
    expect(listVisible(admin, scope)).toEqual({});
  });

  it('narrows to a named owner: all of it for the owner and admins, the public part for others', () => {
    expect(listVisible(user, scope, 'me')).toEqual({ owner: USER_ID });
    expect(listVisible(user, scope, USER_ID.toUpperCase())).toEqual({ owner: USER_ID });
    expect(listVisible(admin, scope, OTHER_ID)).toEqual({ owner: OTHER_ID });
    expect(listVisible(user, scope, OTHER_ID)).toEqual({ owner: OTHER_ID, isPublic: true });
    expect(listVisible(undefined, scope, OTHER_ID)).toEqual({ owner: OTHER_ID, isPublic: true });
  });

  it('refuses `me` without a caller (401): it names no one', () => {
    expect(() => listVisible(undefined, scope, 'me')).toThrow(UnauthorizedException);
  });

  it('uses the paths the scope names', () => {
    expect(listVisible(user, { ownerField: 'addedBy', readableBy: 'shared' })).toEqual({
      $or: [{ shared: true }, { addedBy: USER_ID }],
    });
  });
});

import { ForbiddenException } from '@nestjs/common';

import type { AuthUser } from '../../auth/index.js';
import { Role } from '../../auth/index.js';
import { listOwner } from './owner-scope.js';

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

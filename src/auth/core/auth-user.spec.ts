import type { AuthUser } from './auth-user.js';
import { authUser } from './auth-user.js';
import { Role } from './roles.js';

const account = {
  id: '0123456789abcdef01234567',
  email: 'a@example.com',
  name: 'A',
  role: Role.Admin,
  active: true,
  emailVerified: true,
  mfaEnabled: true,
  createdAt: new Date(1),
  updatedAt: new Date(2),
  // An account record carries these too; they stay inside the kit.
  passwordChangedAt: new Date(3),
  credentialVersion: 'v1',
};

describe('authUser', () => {
  it("copies every field of the account and of the request's credential, and nothing else", () => {
    const user = authUser(account, {
      sessionId: 's1',
      authTime: 4000,
      amr: ['pwd', 'otp'],
      apiKey: { id: 'k1', scopes: ['account:read'] },
    });
    const { passwordChangedAt: _changed, credentialVersion: _version, ...fields } = account;
    expect(user).toEqual({
      ...fields,
      sessionId: 's1',
      authTime: 4000,
      amr: ['pwd', 'otp'],
      apiKey: { id: 'k1', scopes: ['account:read'] },
    });
    expect(user).not.toHaveProperty('passwordChangedAt');
    expect(user).not.toHaveProperty('credentialVersion');
  });

  it('leaves what the request did not authenticate with undefined, and copies rather than shares', () => {
    const source: AuthUser = authUser(account, { sessionId: 's1' });
    const copy = authUser(source, source);
    expect([copy.authTime, copy.amr, copy.apiKey]).toEqual([undefined, undefined, undefined]);
    copy.name = 'B';
    expect(source.name).toBe('A');
    expect(copy).toEqual({ ...source, name: 'B' });
  });
});

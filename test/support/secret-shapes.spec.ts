import { randomBytes } from 'node:crypto';

import bcrypt from 'bcrypt';

import { TEST_ADMIN } from './app.js';
import { findSecrets, passwordsInTests } from './secret-shapes.js';
import { forgeToken } from './tokens.js';
import { STRONG_PASSWORD } from './users.js';

// The no-secrets walk (test/zz-audit-no-secrets.e2e-spec.ts) is only as good as this detector:
// each shape it must catch is caught, and what real events hold is not mistaken for one.
describe('findSecrets', () => {
  const passwords = [STRONG_PASSWORD, TEST_ADMIN.password, 'password'];
  const whys = (value: unknown) => findSecrets(value, passwords).map((f) => f.why);

  it.each([
    ['an access token', forgeToken({ sub: 'u', sid: 's' }), 'a JWT'],
    ['a refresh token', 'q0Xb8p7zN-2hJkLmW3rT_v9YcA5dE1fGiHoPsUuVwZx', 'a random token'],
    ['a token of letters only', 'qXbpzNhJkLmWrTvYcAdEfGiHoPsUuVwZxqXbpzNhJkL', 'a random token'],
    ['a bcrypt hash', bcrypt.hashSync('x', 4), 'a bcrypt hash'],
    [
      'a SHA-256 hex digest',
      'a'.repeat(10) + randomBytes(32).toString('hex'),
      'a hex digest or key',
    ],
    ['a TOTP code', '123456', 'a six-digit code'],
    ['a recovery code', 'abcde-fgh23', 'a recovery code'],
    ['a password the tests use', STRONG_PASSWORD, 'a password the tests use'],
    [
      'a password inside a longer text',
      `said ${TEST_ADMIN.password} once`,
      'a password the tests use',
    ],
  ])('finds %s', (_what, value, why) => {
    expect(whys({ detail: { note: value } })).toContain(why);
  });

  it('finds a six-digit number and a secret field name at any depth', () => {
    expect(findSecrets({ a: [{ b: 654321 }] }, [])).toEqual([
      { path: 'a.0.b', why: 'a six-digit code', value: '654321' },
    ]);
    expect(findSecrets({ detail: { refreshToken: 'x' } }, []).map((f) => f.path)).toEqual([
      'detail.refreshToken',
    ]);
  });

  it('leaves what events hold alone: ids, sessions, addresses, agents, dates, reasons', () => {
    const event = {
      _id: '65f0a1b2c3d4e5f601234567',
      at: '2030-01-01T00:00:00.000Z',
      type: 'login.failed',
      actor: 'anonymous',
      subject: '65f0a1b2c3d4e5f601234568',
      session: randomBytes(16).toString('base64url'),
      ip: '::ffff:127.0.0.1',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0.6099.109',
      instance: 'host-1:12345',
      detail: {
        reason: 'wrong_password',
        email: `user-${randomBytes(5).toString('hex')}@example.com`,
        remaining: 9,
      },
    };
    expect(findSecrets(event, passwords)).toEqual([]);
    // A session id whose end reads like a recovery code (seen in a run) is still an id.
    expect(findSecrets({ ...event, session: 'Ff34kZCasX_Et6bx-YDccw' }, passwords)).toEqual([]);
  });

  it('reads the password literals of the test sources', () => {
    const found = passwordsInTests();
    expect(found).toEqual(expect.arrayContaining([STRONG_PASSWORD, TEST_ADMIN.password]));
    expect(found).toContain('An0ther!pass');
  });
});

import { bcryptInput } from './password.service.js';
import { isCommonPassword, policyViolations } from './password-policy.js';

describe('isCommonPassword', () => {
  it.each(['password', 'PASSWORD', 'password123', 'Password1!', 'qwerty 2024!!', 'iloveyou'])(
    'finds %s',
    (password) => {
      expect(isCommonPassword(password)).toBe(true);
    },
  );

  it.each([
    'correct horse battery staple',
    'Str0ng!pass',
    'gx7-tqmv',
    '密码密码密码密码',
    'N3w-pass-word!',
  ])('lets %s through', (password) => {
    expect(isCommonPassword(password)).toBe(false);
  });

  it('stays linear on a long run of digits that is not at the end', () => {
    // Refused for its length anyway; a trailing-run regex took seconds on this (ReDoS).
    expect(isCommonPassword('1'.repeat(50_000) + 'a')).toBe(false);
    expect(isCommonPassword('1'.repeat(100) + 'a')).toBe(false);
  });
});

describe('policyViolations', () => {
  it('has no composition rule under the default policy', () => {
    expect(policyViolations('length', 'all lower case', 'password')).toEqual([]);
  });

  it('names each missing class under `classes`', () => {
    expect(policyViolations('classes', 'all lower case', 'newPassword')).toEqual([
      'newPassword must contain an upper-case letter',
      'newPassword must contain a digit',
      'newPassword must contain a symbol',
    ]);
    expect(policyViolations('classes', 'Ab1!cdef', 'password')).toEqual([]);
  });
});

describe('bcryptInput', () => {
  it('passes up to 72 UTF-8 bytes unchanged, so existing hashes stay valid', () => {
    const exactly72 = 'é'.repeat(36);
    expect(bcryptInput(exactly72)).toBe(exactly72);
  });

  it('pre-hashes longer input to 64 ASCII bytes that depend on every byte', () => {
    const shared = 'x'.repeat(72);
    const a = bcryptInput(`${shared}a`);
    const b = bcryptInput(`${shared}b`);
    expect(a).toMatch(/^[A-Za-z0-9+/]{64}$/);
    expect(a).not.toBe(b);
    expect(bcryptInput(`${shared}a`)).toBe(a);
  });
});

import { generateKeyPairSync } from 'node:crypto';

import { createTokenKeys } from './token-keys.js';

const pem = (type: 'rsa' | 'ec') => {
  const pair =
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
};

const base = { issuer: 'iss', audience: 'aud' };

describe('createTokenKeys', () => {
  it('refuses a missing or short HS256 secret', () => {
    expect(() => createTokenKeys({ ...base })).toThrow(/at least 32/);
    expect(() => createTokenKeys({ ...base, secret: 'x'.repeat(31) })).toThrow(/at least 32/);
  });

  it('makes one symmetric KeyObject for HS256, without a key id', () => {
    const keys = createTokenKeys({ ...base, secret: 'k'.repeat(32) });
    expect(keys.signKey.type).toBe('secret');
    expect(keys.verifyKey).toBe(keys.signKey);
    expect(keys.keyId).toBeUndefined();
  });

  it('refuses RS256 or ES256 without both keys', () => {
    const { privateKey } = pem('rsa');
    expect(() => createTokenKeys({ ...base, algorithm: 'RS256', privateKey })).toThrow(/both/);
  });

  it('refuses keys of the wrong type for the algorithm', () => {
    expect(() => createTokenKeys({ ...base, algorithm: 'RS256', ...pem('ec') })).toThrow(/RSA/);
    expect(() => createTokenKeys({ ...base, algorithm: 'ES256', ...pem('rsa') })).toThrow(/EC/);
  });

  it('derives a stable key id from the public key', () => {
    const pair = pem('ec');
    const a = createTokenKeys({ ...base, algorithm: 'ES256', ...pair });
    const b = createTokenKeys({ ...base, algorithm: 'ES256', ...pair });
    expect(a.keyId).toMatch(/^[\w-]{16}$/);
    expect(a.keyId).toBe(b.keyId);
    expect(createTokenKeys({ ...base, algorithm: 'ES256', ...pem('ec') }).keyId).not.toBe(a.keyId);
  });
});

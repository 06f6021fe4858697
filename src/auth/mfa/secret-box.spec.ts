import { randomBytes } from 'node:crypto';

import { parseEncryptionKey, SecretBox } from './secret-box.js';

describe('SecretBox', () => {
  const key = randomBytes(32).toString('base64');
  const box = new SecretBox(key);

  it('seals to a ciphertext that does not contain the secret, and opens it again', () => {
    const sealed = box.seal('JBSWY3DPEHPK3PXP', 'user-1');
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(box.open(sealed, 'user-1')).toBe('JBSWY3DPEHPK3PXP');
    expect(box.seal('JBSWY3DPEHPK3PXP', 'user-1')).not.toBe(sealed); // fresh IV each time
  });

  it('refuses another owner, another key and an altered ciphertext', () => {
    const sealed = box.seal('JBSWY3DPEHPK3PXP', 'user-1');
    expect(() => box.open(sealed, 'user-2')).toThrow();
    expect(() => new SecretBox(randomBytes(32).toString('hex')).open(sealed, 'user-1')).toThrow();
    const parts = sealed.split('.');
    parts[3] = Buffer.from('AAAAAAAAAAAAAAAA').toString('base64url');
    expect(() => box.open(parts.join('.'), 'user-1')).toThrow();
  });

  it('accepts 32-byte keys in hex, base64 and base64url only', () => {
    const raw = randomBytes(32);
    expect(parseEncryptionKey(raw.toString('hex'))).toEqual(raw);
    expect(parseEncryptionKey(raw.toString('base64'))).toEqual(raw);
    expect(parseEncryptionKey(raw.toString('base64url'))).toEqual(raw);
    expect(parseEncryptionKey(randomBytes(16).toString('hex'))).toBeNull();
    expect(parseEncryptionKey('change-me')).toBeNull();
    expect(() => new SecretBox('short')).toThrow(/32 bytes/);
  });

  it('digests are keyed: the same code hashes differently under another key', () => {
    const other = new SecretBox(randomBytes(32).toString('hex'));
    expect(box.digest('abcde12345')).toBe(box.digest('abcde12345'));
    expect(box.digest('abcde12345')).not.toBe(other.digest('abcde12345'));
  });
});

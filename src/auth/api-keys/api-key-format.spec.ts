import { API_KEY_LENGTH, generateApiKey, looksLikeApiKey, parseApiKey } from './api-key-format.js';

describe('API key format', () => {
  it('generates gdk_<12>_<43><6> keys that parse back to their id and secret', () => {
    const { id, secret, key } = generateApiKey();
    expect(key).toMatch(/^gdk_[0-9A-Za-z]{12}_[0-9A-Za-z]{49}$/);
    expect(key).toHaveLength(API_KEY_LENGTH);
    expect(looksLikeApiKey(key)).toBe(true);
    expect(parseApiKey(key)).toEqual({ id, secret });
  });

  it('gives every key a different id and secret', () => {
    const keys = Array.from({ length: 200 }, () => generateApiKey());
    expect(new Set(keys.map((k) => k.id)).size).toBe(200);
    expect(new Set(keys.map((k) => k.secret)).size).toBe(200);
  });

  it('refuses a key with any one character changed, missing or added', () => {
    const { key } = generateApiKey();
    for (let i = 4; i < key.length; i++) {
      if (key[i] === '_') continue;
      const swapped = key.slice(0, i) + (key[i] === 'a' ? 'b' : 'a') + key.slice(i + 1);
      expect(parseApiKey(swapped)).toBeNull();
    }
    expect(parseApiKey(key.slice(0, -1))).toBeNull();
    expect(parseApiKey(`${key}a`)).toBeNull();
    expect(parseApiKey(key.replace('gdk_', 'gdx_'))).toBeNull();
  });

  it('does not take a JWT for a key', () => {
    expect(looksLikeApiKey('eyJhbGciOiJIUzI1NiJ9.e30.sig')).toBe(false);
  });
});

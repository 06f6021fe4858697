import { VerifiedTokens } from './verified-tokens.js';

describe('VerifiedTokens', () => {
  it('answers a remembered token until its expiry, then forgets it', () => {
    const tokens = new VerifiedTokens<string>(10);
    tokens.set('a.b.c', 'payload', 2_000);
    expect(tokens.get('a.b.c', 1_999)).toBe('payload');
    expect(tokens.get('a.b.c', 2_000)).toBeUndefined();
    expect(tokens.size).toBe(0);
  });

  it('knows only the exact token string', () => {
    const tokens = new VerifiedTokens<string>(10);
    tokens.set('a.b.c', 'payload', 2_000);
    expect(tokens.get('a.b.d', 0)).toBeUndefined();
    expect(tokens.get('a.b.c ', 0)).toBeUndefined();
  });

  it('drops the oldest token when full', () => {
    const tokens = new VerifiedTokens<number>(2);
    tokens.set('one', 1, 9_000);
    tokens.set('two', 2, 9_000);
    tokens.set('three', 3, 9_000);
    expect(tokens.size).toBe(2);
    expect(tokens.get('one', 0)).toBeUndefined();
    expect(tokens.get('two', 0)).toBe(2);
    expect(tokens.get('three', 0)).toBe(3);
  });

  it('remembers nothing with no room', () => {
    const tokens = new VerifiedTokens<number>(0);
    tokens.set('one', 1, 9_000);
    expect(tokens.get('one', 0)).toBeUndefined();
  });
});

import { clientKey } from './client-key.js';

describe('clientKey (what per-IP limits count by)', () => {
  it('gives two IPv6 addresses of one /64 the same key', () => {
    expect(clientKey('2001:db8:1:2::1')).toBe(clientKey('2001:db8:1:2:ffff:ffff:ffff:fffe'));
    expect(clientKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
  });

  it('keeps different /64 prefixes apart', () => {
    expect(clientKey('2001:db8:1:2::1')).not.toBe(clientKey('2001:db8:1:3::1'));
  });

  it('counts an IPv4-mapped IPv6 address as its IPv4 address', () => {
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::ffff:203.0.113.7')).toBe(clientKey('203.0.113.7'));
  });

  it('keeps IPv4 addresses apart, one key each', () => {
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('203.0.113.8')).not.toBe(clientKey('203.0.113.7'));
  });

  it('spells one address one way, however it was written', () => {
    expect(clientKey('2001:DB8:0001:0002:0:0:0:1')).toBe(clientKey('2001:db8:1:2::1'));
  });
});

import { jest } from '@jest/globals';
import ipaddr from 'ipaddr.js';

import { clientAddress, clientKey, parseClientAddress } from './client-key.js';

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

describe('parseClientAddress (one spelling per address, a port dropped)', () => {
  it.each([
    ['10.111.0.1', '10.111.0.1'],
    ['10.111.0.1:1234', '10.111.0.1'],
    [' 203.0.113.7 ', '203.0.113.7'],
    ['[2001:DB8::1]:443', '2001:db8::1'],
    ['[::1]', '::1'],
    ['::1', '::1'],
    ['2001:db8:0:0:0:0:0:1', '2001:db8::1'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['[::ffff:203.0.113.7]:80', '203.0.113.7'],
  ])('%p is %p', (value, expected) => {
    expect(parseClientAddress(value)).toBe(expected);
  });

  it.each([
    'not-an-address',
    '',
    '10.111.0.1:',
    '10.111.0.1:1234:5',
    '10.111.0.1, 10.0.0.2',
    '127.1',
    '0x7f.0.0.1',
    '999.1.1.1',
    '[10.0.0.1]:80x',
    '::1]:80',
    'unix:/run/app.sock',
  ])('%p is no address', (value) => {
    expect(parseClientAddress(value)).toBeNull();
  });
});

describe('parseClientAddress, asked again (answers are remembered)', () => {
  it('answers a value seen before as it did the first time, a refusal included', () => {
    for (let round = 0; round < 3; round++) {
      expect(parseClientAddress(' [2001:DB8::7]:443')).toBe('2001:db8::7');
      expect(parseClientAddress('::ffff:198.51.100.7')).toBe('198.51.100.7');
      expect(parseClientAddress('not-an-address')).toBeNull();
    }
  });

  it('parses a value too long to remember each time it comes, and a short one once', () => {
    const parses = jest.spyOn(ipaddr.IPv4, 'isValidFourPartDecimal');
    try {
      const padded = `${' '.repeat(70)}192.0.2.44`;
      expect(parseClientAddress(padded)).toBe('192.0.2.44');
      expect(parseClientAddress(padded)).toBe('192.0.2.44');
      expect(parses).toHaveBeenCalledTimes(2);
      parses.mockClear();
      expect(parseClientAddress('192.0.2.45')).toBe('192.0.2.45');
      expect(parseClientAddress('192.0.2.45')).toBe('192.0.2.45');
      expect(parses).toHaveBeenCalledTimes(1);
      expect(parseClientAddress('x'.repeat(70))).toBeNull();
    } finally {
      parses.mockRestore();
    }
  });
});

describe('clientAddress (what @ClientIp() and the rate-limit key read)', () => {
  it('takes the reported (forwarded) address, normalized', () => {
    expect(clientAddress('10.111.0.1:1234', '127.0.0.1')).toBe('10.111.0.1');
    expect(clientKey(clientAddress('10.111.0.1:1234', '127.0.0.1'))).toBe(clientKey('10.111.0.1'));
  });

  it('falls back to the socket address when the reported one does not parse', () => {
    expect(clientAddress('garbage-1', '127.0.0.1')).toBe('127.0.0.1');
    expect(clientAddress('garbage-2', '::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(clientAddress(undefined, '192.0.2.1')).toBe('192.0.2.1');
  });

  it('never returns the unparsed reported value', () => {
    expect(clientAddress('garbage', undefined)).toBe('unknown');
    expect(clientAddress('garbage', '/run/app.sock')).toBe('/run/app.sock');
  });
});

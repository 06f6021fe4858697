import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { validateEnv } from './env.js';

const MONGODB_URI = 'mongodb://127.0.0.1:27017/unit';
/** Hex cannot spell a placeholder word, so this is never judged weak. */
const STRONG_SECRET = randomBytes(32).toString('hex');

const env = (settings: Record<string, string | undefined>) =>
  validateEnv({ MONGODB_URI, JWT_SECRET: STRONG_SECRET, ...settings });

describe('TRUST_PROXY', () => {
  it('is off by default: X-Forwarded-For is not trusted', () => {
    expect(env({}).TRUST_PROXY).toBe(false);
    expect(env({ TRUST_PROXY: 'false' }).TRUST_PROXY).toBe(false);
  });

  it('takes the proxies as a comma-separated list of addresses and CIDR ranges', () => {
    expect(env({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1 , loopback' }).TRUST_PROXY).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
      '::1',
      'loopback',
    ]);
  });

  it.each([['not-an-ip'], ['10.0.0.0/99'], ['2'], ['127.0.0.1, proxy.example']])(
    'refuses %p, naming the setting',
    (value) => {
      expect(() => env({ TRUST_PROXY: value })).toThrow(/TRUST_PROXY/);
    },
  );

  it('refuses TRUST_PROXY=true in production, naming the setting', () => {
    expect(() => env({ NODE_ENV: 'production', TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY/);
  });

  it('accepts a list in production', () => {
    expect(env({ NODE_ENV: 'production', TRUST_PROXY: '10.1.2.3' }).TRUST_PROXY).toEqual([
      '10.1.2.3',
    ]);
  });
});

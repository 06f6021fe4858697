import 'reflect-metadata';
import { validateEnv } from './env.js';

const base = {
  MONGODB_URI: 'mongodb://127.0.0.1:27017/guardhouse',
  JWT_SECRET: 'k7Qz2mVx9LpR4tWc8NbY3hJd6FgS1aEu',
};

describe('SESSION_MAX_AGE_SECONDS', () => {
  it('defaults to 30 days', () => {
    expect(validateEnv(base).SESSION_MAX_AGE_SECONDS).toBe(30 * 24 * 3600);
  });

  it('refuses less than a minute outside NODE_ENV=test, and zero anywhere', () => {
    for (const NODE_ENV of ['development', 'production']) {
      expect(() => validateEnv({ ...base, NODE_ENV, SESSION_MAX_AGE_SECONDS: '59' })).toThrow(
        /SESSION_MAX_AGE_SECONDS/,
      );
      expect(validateEnv({ ...base, NODE_ENV, SESSION_MAX_AGE_SECONDS: '60' })).toMatchObject({
        SESSION_MAX_AGE_SECONDS: 60,
      });
    }
    expect(() => validateEnv({ ...base, NODE_ENV: 'test', SESSION_MAX_AGE_SECONDS: '0' })).toThrow(
      /SESSION_MAX_AGE_SECONDS/,
    );
  });

  it('allows a few seconds under NODE_ENV=test, so tests can outlive a session', () => {
    expect(validateEnv({ ...base, NODE_ENV: 'test', SESSION_MAX_AGE_SECONDS: '3' })).toMatchObject({
      SESSION_MAX_AGE_SECONDS: 3,
    });
  });
});

import 'reflect-metadata';

import { randomBytes } from 'node:crypto';

import { authOptionsFromEnv } from './auth.config.js';
import { validateEnv } from './env.js';

const MONGODB_URI = 'mongodb://127.0.0.1:27017/unit';
/** Hex cannot spell a placeholder word, so this is never judged weak. */
const STRONG_SECRET = randomBytes(32).toString('hex');

const MFA_KEY = randomBytes(32).toString('hex');
const MAIL = { SMTP_URL: 'smtp://127.0.0.1:2525', PUBLIC_URL: 'https://app.example.com' };

const env = (settings: Record<string, string | undefined>) =>
  validateEnv({
    MONGODB_URI,
    JWT_SECRET: STRONG_SECRET,
    MFA_ENCRYPTION_KEY: MFA_KEY,
    ...MAIL,
    ...settings,
  });

describe('account mail settings', () => {
  it.each(['SMTP_URL', 'PUBLIC_URL'])(
    'production refuses to start without %s, naming it',
    (key) => {
      expect(() => env({ NODE_ENV: 'production', [key]: undefined })).toThrow(
        new RegExp(`${key}: required in production`),
      );
    },
  );

  it('development runs without SMTP_URL (outbox) and links to localhost by default', () => {
    const settings = env({ NODE_ENV: 'development', SMTP_URL: undefined, PUBLIC_URL: undefined });
    expect(settings.SMTP_URL).toBeUndefined();
    expect(settings.MAIL_OUTBOX_DIR).toBe('.data/outbox');
    expect(settings.PUBLIC_URL).toBe('http://localhost:3000');
  });

  it.each([
    ['SMTP_URL', 'http://mail.example.com'],
    ['PUBLIC_URL', 'javascript:alert(1)'],
  ])('refuses %s=%p', (key, value) => {
    expect(() => env({ [key]: value })).toThrow(new RegExp(key));
  });

  it('REQUIRE_VERIFIED_EMAIL is off by default', () => {
    expect(env({}).REQUIRE_VERIFIED_EMAIL).toBe(false);
    expect(env({ REQUIRE_VERIFIED_EMAIL: 'true' }).REQUIRE_VERIFIED_EMAIL).toBe(true);
  });
});

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

describe('JWT_SECRET outside production', () => {
  const PLACEHOLDER = 'change-me-to-a-long-random-string-please';

  it('refuses a placeholder secret in development, naming the setting', () => {
    expect(() => env({ NODE_ENV: 'development', JWT_SECRET: PLACEHOLDER })).toThrow(/JWT_SECRET/);
  });

  it('refuses a placeholder secret when NODE_ENV is not set (development by default)', () => {
    expect(() => env({ NODE_ENV: undefined, JWT_SECRET: PLACEHOLDER })).toThrow(/JWT_SECRET/);
  });

  it('refuses a low-variety secret in development', () => {
    expect(() => env({ NODE_ENV: 'development', JWT_SECRET: 'ab'.repeat(20) })).toThrow(
      /JWT_SECRET/,
    );
  });

  it('accepts a placeholder of the right length in tests (NODE_ENV=test)', () => {
    expect(env({ NODE_ENV: 'test', JWT_SECRET: PLACEHOLDER }).JWT_SECRET).toBe(PLACEHOLDER);
  });

  it('still generates a random secret in development when none is set', () => {
    const settings = env({ NODE_ENV: 'development', JWT_SECRET: undefined });
    expect(settings.JWT_SECRET_GENERATED).toBe(true);
    expect(settings.JWT_SECRET?.length).toBeGreaterThanOrEqual(32);
  });

  it('accepts a strong secret in development', () => {
    expect(env({ NODE_ENV: 'development' }).JWT_SECRET).toBe(STRONG_SECRET);
  });
});

describe('SWAGGER_ENABLED', () => {
  it('is off by default in production', () => {
    expect(env({ NODE_ENV: 'production' }).SWAGGER_ENABLED).toBe(false);
  });

  it.each([['development'], ['test'], [undefined]])('is on by default when NODE_ENV=%p', (mode) => {
    expect(env({ NODE_ENV: mode }).SWAGGER_ENABLED).toBe(true);
  });

  it('follows an explicit setting in every environment', () => {
    expect(env({ NODE_ENV: 'production', SWAGGER_ENABLED: 'true' }).SWAGGER_ENABLED).toBe(true);
    expect(env({ NODE_ENV: 'development', SWAGGER_ENABLED: 'false' }).SWAGGER_ENABLED).toBe(false);
  });
});

describe('LOG_REQUEST_CONTEXT', () => {
  it('is off unless asked for', () => {
    expect(env({}).LOG_REQUEST_CONTEXT).toBe(false);
    expect(env({ LOG_REQUEST_CONTEXT: 'true' }).LOG_REQUEST_CONTEXT).toBe(true);
    expect(env({ LOG_REQUEST_CONTEXT: 'false' }).LOG_REQUEST_CONTEXT).toBe(false);
  });
});

describe('SESSION_MAX_AGE_SECONDS', () => {
  it('defaults to 30 days', () => {
    expect(env({}).SESSION_MAX_AGE_SECONDS).toBe(30 * 24 * 3600);
  });

  it('refuses less than a minute outside NODE_ENV=test, and zero anywhere', () => {
    for (const NODE_ENV of ['development', 'production']) {
      expect(() => env({ NODE_ENV, SESSION_MAX_AGE_SECONDS: '59' })).toThrow(
        /SESSION_MAX_AGE_SECONDS/,
      );
      expect(env({ NODE_ENV, SESSION_MAX_AGE_SECONDS: '60' })).toMatchObject({
        SESSION_MAX_AGE_SECONDS: 60,
      });
    }
    expect(() => env({ NODE_ENV: 'test', SESSION_MAX_AGE_SECONDS: '0' })).toThrow(
      /SESSION_MAX_AGE_SECONDS/,
    );
  });

  it('allows a few seconds under NODE_ENV=test, so tests can outlive a session', () => {
    expect(env({ NODE_ENV: 'test', SESSION_MAX_AGE_SECONDS: '3' })).toMatchObject({
      SESSION_MAX_AGE_SECONDS: 3,
    });
  });
});

describe('PASSWORD_POLICY and cover limits', () => {
  it('defaults to the length policy and 2 cover jobs, 4 queued, 10 uploads a minute', () => {
    expect(env({})).toMatchObject({
      PASSWORD_POLICY: 'length',
      COVER_JOBS_CONCURRENCY: 2,
      COVER_JOBS_QUEUE: 4,
      COVER_UPLOADS_PER_MINUTE: 10,
    });
  });

  it('takes PASSWORD_POLICY=classes', () => {
    expect(env({ PASSWORD_POLICY: 'classes' }).PASSWORD_POLICY).toBe('classes');
  });

  it.each([
    ['PASSWORD_POLICY', 'strong'],
    ['COVER_JOBS_CONCURRENCY', '0'],
    ['COVER_JOBS_QUEUE', '-1'],
    ['COVER_UPLOADS_PER_MINUTE', 'many'],
  ])('refuses %s=%s, naming it', (name, value) => {
    expect(() => env({ [name]: value })).toThrow(new RegExp(`${name}:`));
  });
});

describe('MFA_ENCRYPTION_KEY', () => {
  it('is required in production while the second factor is on, naming it', () => {
    expect(() => env({ NODE_ENV: 'production', MFA_ENCRYPTION_KEY: undefined })).toThrow(
      /MFA_ENCRYPTION_KEY/,
    );
    expect(
      env({ NODE_ENV: 'production', MFA_ENCRYPTION_KEY: undefined, MFA_ENABLED: 'false' }),
    ).toMatchObject({ MFA_ENABLED: false });
  });

  it('is generated outside production when missing, and flagged', () => {
    const settings = env({ NODE_ENV: 'development', MFA_ENCRYPTION_KEY: undefined });
    expect(settings.MFA_ENCRYPTION_KEY_GENERATED).toBe(true);
    expect(Buffer.from(settings.MFA_ENCRYPTION_KEY ?? '', 'base64')).toHaveLength(32);
  });

  it('refuses a key that is not 32 bytes, naming it', () => {
    for (const key of ['changeme', randomBytes(16).toString('hex')]) {
      expect(() => env({ MFA_ENCRYPTION_KEY: key })).toThrow(/MFA_ENCRYPTION_KEY/);
    }
    expect(env({ MFA_ENCRYPTION_KEY: randomBytes(32).toString('base64') })).toBeDefined();
  });
});

describe('MongoDB connection settings', () => {
  it('builds indexes at start-up except in production, unless set explicitly', () => {
    expect(env({}).MONGODB_AUTO_INDEX).toBe(true);
    expect(env({ NODE_ENV: 'test' }).MONGODB_AUTO_INDEX).toBe(true);
    expect(env({ NODE_ENV: 'production' }).MONGODB_AUTO_INDEX).toBe(false);
    expect(env({ NODE_ENV: 'production', MONGODB_AUTO_INDEX: 'true' }).MONGODB_AUTO_INDEX).toBe(
      true,
    );
    expect(env({ MONGODB_AUTO_INDEX: 'false' }).MONGODB_AUTO_INDEX).toBe(false);
  });

  it('has defaults for the pool and the timeouts', () => {
    expect(env({})).toMatchObject({
      MONGODB_POOL_SIZE: 100,
      MONGODB_SERVER_SELECTION_TIMEOUT_MS: 5000,
      MONGODB_SOCKET_TIMEOUT_MS: 30_000,
    });
    expect(
      env({
        MONGODB_POOL_SIZE: '20',
        MONGODB_SERVER_SELECTION_TIMEOUT_MS: '30000',
        MONGODB_SOCKET_TIMEOUT_MS: '0',
      }),
    ).toMatchObject({
      MONGODB_POOL_SIZE: 20,
      MONGODB_SERVER_SELECTION_TIMEOUT_MS: 30_000,
      MONGODB_SOCKET_TIMEOUT_MS: 0,
    });
  });

  it.each([
    ['MONGODB_POOL_SIZE', '0'],
    ['MONGODB_POOL_SIZE', '1.5'],
    ['MONGODB_POOL_SIZE', 'many'],
    ['MONGODB_SERVER_SELECTION_TIMEOUT_MS', '10'],
    ['MONGODB_SERVER_SELECTION_TIMEOUT_MS', '-1'],
    ['MONGODB_SOCKET_TIMEOUT_MS', '-1'],
    ['MONGODB_SOCKET_TIMEOUT_MS', '1e9'],
  ])('refuses %s=%s, naming the setting', (name, value) => {
    expect(() => env({ [name]: value })).toThrow(new RegExp(name));
  });
});

describe('audit trail settings', () => {
  it('keeps events a year, writes every second, holds 10 000 and names no instance by default', () => {
    expect(env({})).toMatchObject({
      AUDIT_RETENTION_DAYS: 365,
      AUDIT_FLUSH_INTERVAL_MS: 1000,
      AUDIT_BUFFER_SIZE: 10_000,
    });
    expect(env({}).INSTANCE_ID).toBeUndefined();
    expect(env({ INSTANCE_ID: 'api-2.eu:1' }).INSTANCE_ID).toBe('api-2.eu:1');
  });

  it.each([
    ['AUDIT_RETENTION_DAYS', '0'],
    ['AUDIT_FLUSH_INTERVAL_MS', '5'],
    ['AUDIT_BUFFER_SIZE', '9'],
    ['INSTANCE_ID', 'api 1'],
  ])('refuses %s=%p, naming it', (key, value) => {
    expect(() => env({ [key]: value })).toThrow(new RegExp(`${key}:`));
  });
});

describe('ADMIN_PASSWORD (the signup password policy, checked at start-up)', () => {
  const admin = (password: string, settings: Record<string, string> = {}) =>
    env({ ADMIN_EMAIL: 'admin@example.com', ADMIN_PASSWORD: password, ...settings });

  const refusal = (password: string): string => {
    try {
      admin(password, { NODE_ENV: 'production' });
    } catch (error) {
      return (error as Error).message;
    }
    return 'started';
  };

  it.each(['password', 'admin1234', 'Password1!', 'qwerty123', 'letmein!!'])(
    'refuses the common password %p, naming ADMIN_PASSWORD',
    (password) => {
      expect(refusal(password)).toMatch(/ADMIN_PASSWORD: .*too common/);
    },
  );

  it('never repeats the value: every common password gets the same message', () => {
    const messages = new Set(['admin1234', 'qwerty123', 'letmein!!'].map(refusal));
    expect(messages.size).toBe(1);
    expect([...messages][0]).not.toMatch(/admin1234|qwerty123|letmein/);
  });

  it('refuses a password shorter than 8 characters or longer than 128', () => {
    expect(() => admin('Xq7#kLm')).toThrow(/ADMIN_PASSWORD: .*at least 8/);
    expect(() => admin('x'.repeat(64) + 'y'.repeat(65))).toThrow(/ADMIN_PASSWORD: .*at most 128/);
  });

  it('applies PASSWORD_POLICY=classes too', () => {
    const passphrase = 'correct horse battery staple';
    expect(admin(passphrase).ADMIN_PASSWORD).toBe(passphrase);
    expect(() => admin(passphrase, { PASSWORD_POLICY: 'classes' })).toThrow(
      /ADMIN_PASSWORD: .*upper-case letter/,
    );
    expect(admin('Kx9!vRq2#mT', { PASSWORD_POLICY: 'classes' }).ADMIN_PASSWORD).toBe('Kx9!vRq2#mT');
  });

  it('accepts a strong password, and no admin at all', () => {
    expect(admin('Admin-pass-1!', { NODE_ENV: 'production' }).ADMIN_PASSWORD).toBe('Admin-pass-1!');
    expect(env({}).ADMIN_PASSWORD).toBeUndefined();
  });
});

describe('MFA_MAX_FAILURES_PER_DAY', () => {
  it('defaults to 10 and reaches the kit', () => {
    expect(env({}).MFA_MAX_FAILURES_PER_DAY).toBe(10);
    expect(authOptionsFromEnv(env({ MFA_MAX_FAILURES_PER_DAY: '4' })).mfa?.maxFailuresPerDay).toBe(
      4,
    );
  });

  it.each(['0', '-1', 'many'])('refuses %p, naming the setting', (value) => {
    expect(() => env({ MFA_MAX_FAILURES_PER_DAY: value })).toThrow(/MFA_MAX_FAILURES_PER_DAY/);
  });
});

describe('ACCOUNT_PAGE_ENABLED', () => {
  it('is off by default in production, on elsewhere', () => {
    expect(env({ NODE_ENV: 'production' }).ACCOUNT_PAGE_ENABLED).toBe(false);
    expect(env({ NODE_ENV: 'development' }).ACCOUNT_PAGE_ENABLED).toBe(true);
    expect(env({ NODE_ENV: 'test' }).ACCOUNT_PAGE_ENABLED).toBe(true);
  });

  it('follows an explicit setting in every environment', () => {
    expect(env({ NODE_ENV: 'production', ACCOUNT_PAGE_ENABLED: 'true' }).ACCOUNT_PAGE_ENABLED).toBe(
      true,
    );
    expect(env({ NODE_ENV: 'test', ACCOUNT_PAGE_ENABLED: 'false' }).ACCOUNT_PAGE_ENABLED).toBe(
      false,
    );
  });
});

describe('passkey settings (WEBAUTHN_*)', () => {
  it('derive RP ID and origin from PUBLIC_URL, and reach the kit', () => {
    expect(authOptionsFromEnv(env({})).passkeys).toEqual({
      rpId: 'app.example.com',
      rpName: 'Guardhouse',
      origins: ['https://app.example.com'],
    });
    expect(
      authOptionsFromEnv(env({ PUBLIC_URL: undefined, NODE_ENV: 'development' })).passkeys,
    ).toMatchObject({ rpId: 'localhost', origins: ['http://localhost:3000'] });
  });

  it('take a parent domain and a list of its origins', () => {
    const settings = env({
      WEBAUTHN_RP_ID: 'Example.com',
      WEBAUTHN_ORIGINS: 'https://app.example.com, https://example.com',
      WEBAUTHN_RP_NAME: 'Example',
    });
    expect(authOptionsFromEnv(settings).passkeys).toEqual({
      rpId: 'example.com',
      rpName: 'Example',
      origins: ['https://app.example.com', 'https://example.com'],
    });
  });

  it.each([
    [
      'an origin outside the RP ID',
      { WEBAUTHN_RP_ID: 'example.com', WEBAUTHN_ORIGINS: 'https://evil.com' },
    ],
    [
      'a look-alike suffix',
      { WEBAUTHN_RP_ID: 'example.com', WEBAUTHN_ORIGINS: 'https://notexample.com' },
    ],
    ['an origin with a path', { WEBAUTHN_ORIGINS: 'https://app.example.com/account' }],
    ['an RP ID that is no domain', { WEBAUTHN_RP_ID: 'https://example.com' }],
  ])('refuse %s, naming the setting', (_label, settings) => {
    expect(() => env(settings)).toThrow(/WEBAUTHN_(ORIGINS|RP_ID)/);
  });
});

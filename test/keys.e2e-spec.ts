import type { JsonWebKey } from 'node:crypto';
import { createHmac, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';

import jwt from 'jsonwebtoken';
import request from 'supertest';

import { createApp } from '../src/bootstrap.js';
import type { TestApp } from './support/app.js';
import { createTestApp, testDatabaseUri } from './support/app.js';
import { decodePayload, TEST_AUDIENCE, TEST_ISSUER } from './support/tokens.js';
import { signupAndLogin } from './support/users.js';

const b64url = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

const tokenHeader = (token: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));

const PRIVATE_JWK_FIELDS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

function pemKeyPair(type: 'rsa' | 'ec'): { privateKey: string; publicKey: string } {
  const publicKeyEncoding = { type: 'spki', format: 'pem' } as const;
  const privateKeyEncoding = { type: 'pkcs8', format: 'pem' } as const;
  return type === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding, privateKeyEncoding })
    : generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding, privateKeyEncoding });
}

describe('HS256 (default)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ label: 'keys_hs' });
  });

  afterAll(() => t.close());

  it('publishes no keys at /api/auth/jwks.json', async () => {
    const res = await request(t.app.getHttpServer()).get('/api/auth/jwks.json').expect(200);
    expect(res.body).toEqual({ keys: [] });
  });
});

describe.each([
  { algorithm: 'RS256', type: 'rsa', kty: 'RSA' },
  { algorithm: 'ES256', type: 'ec', kty: 'EC' },
] as const)('$algorithm with a key pair', ({ algorithm, type, kty }) => {
  const keys = pemKeyPair(type);
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      label: `keys_${type}`,
      env: {
        JWT_ALGORITHM: algorithm,
        JWT_PRIVATE_KEY: keys.privateKey,
        JWT_PUBLIC_KEY: keys.publicKey,
      },
    });
  });

  afterAll(() => t.close());

  const jwks = async (): Promise<JsonWebKey[]> =>
    (await request(t.app.getHttpServer()).get('/api/auth/jwks.json').expect(200)).body.keys;

  it('publishes exactly the public key, with kid, alg and use', async () => {
    const published = await jwks();
    expect(published).toHaveLength(1);
    const [jwk] = published;
    expect(jwk).toMatchObject({ kty, alg: algorithm, use: 'sig' });
    expect(typeof jwk.kid).toBe('string');
    expect(String(jwk.kid).length).toBeGreaterThan(0);
    for (const field of PRIVATE_JWK_FIELDS) expect(jwk).not.toHaveProperty(field);
    const expected = createPublicKey(keys.publicKey).export({ format: 'jwk' });
    expect(jwk).toMatchObject(expected);
  });

  it('signs access tokens that verify with the published JWK and carry its kid', async () => {
    const user = await signupAndLogin(t.app);
    const [jwk] = await jwks();
    expect(tokenHeader(user.token)).toMatchObject({ alg: algorithm, kid: jwk.kid });
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    const claims = jwt.verify(user.token, key, {
      algorithms: [algorithm],
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
    });
    expect(claims).toMatchObject({ sub: user.id });
    await request(t.app.getHttpServer()).get('/api/users/me').set(user.auth).expect(200);
  });

  it('refuses an HS256 token whose HMAC secret is the public key PEM (algorithm confusion)', async () => {
    const user = await signupAndLogin(t.app);
    const [jwk] = await jwks();
    const { sid } = decodePayload(user.token);
    const now = Math.floor(Date.now() / 1000);
    const signingInput = `${b64url({ alg: 'HS256', typ: 'at+jwt', kid: jwk.kid })}.${b64url({
      sub: user.id,
      sid,
      iat: now,
      exp: now + 600,
      iss: TEST_ISSUER,
      aud: TEST_AUDIENCE,
    })}`;
    for (const secret of [keys.publicKey, keys.publicKey.trim()]) {
      const signature = createHmac('sha256', secret).update(signingInput).digest('base64url');
      const res = await request(t.app.getHttpServer())
        .get('/api/users/me')
        .set('Authorization', `Bearer ${signingInput}.${signature}`);
      expect(res.status).toBe(401);
    }
  });
});

describe('production start-up', () => {
  const productionEnv = (secret: string | undefined) => ({
    NODE_ENV: 'production',
    MONGODB_URI: testDatabaseUri('keys_prod'),
    JWT_SECRET: secret,
    LOG_LEVEL: 'silent',
    SMTP_URL: 'smtp://127.0.0.1:9',
    PUBLIC_URL: 'https://guardhouse.example.com',
  });

  it.each([
    ['missing', undefined],
    ['short', 'Sh0rt-but-random'],
    ['placeholder', 'changeme-changeme-changeme-changeme'],
    ['low-variety', 'abababababababababababababababababab'],
  ])('refuses a %s JWT_SECRET, naming it', async (_why, secret) => {
    await expect(createApp({ env: productionEnv(secret) })).rejects.toThrow(/JWT_SECRET/);
  });

  it('starts with a strong random JWT_SECRET and issues working tokens', async () => {
    // Hex cannot spell any placeholder word the check looks for, so this never flakes.
    const secret = randomBytes(32).toString('hex');
    const t = await createTestApp({
      label: 'keys_prod',
      env: {
        NODE_ENV: 'production',
        JWT_SECRET: secret,
        MFA_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
        API_KEY_HASH_SECRET: randomBytes(32).toString('hex'),
        SMTP_URL: 'smtp://127.0.0.1:9',
        PUBLIC_URL: 'https://guardhouse.example.com',
      },
    });
    try {
      const user = await signupAndLogin(t.app);
      expect(() =>
        jwt.verify(user.token, secret, { issuer: TEST_ISSUER, audience: TEST_AUDIENCE }),
      ).not.toThrow();
    } finally {
      await t.close();
    }
  });
});

import { createHmac, generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import { createTestApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { expectUnchangedAfter } from '../support/db.js';
import {
  decodePayload,
  forgeToken,
  TEST_AUDIENCE,
  TEST_ISSUER,
  unsignedToken,
} from '../support/tokens.js';
import { signupAndLogin } from '../support/users.js';
import type { TestUser } from '../support/users.js';

/**
 * Forged and misused tokens. Each test sends one hostile, state-changing request (rename the
 * account) and asserts it is refused with 401 and that no collection changed.
 */
type App = TestApp['app'];

const b64url = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

const now = () => Math.floor(Date.now() / 1000);

/** The hostile request: rename the account the token claims to be. */
const renameWith = (app: App, authorization: string, path = '/api/users/me') =>
  request(app.getHttpServer())
    .patch(path)
    .set('Authorization', authorization)
    .send({ name: 'Pwned' });

async function expectRefused(app: App, send: () => request.Test, status = 401): Promise<void> {
  const unchanged = await expectUnchangedAfter(app);
  const res = await send();
  expect(res.status).toBe(status);
  expect(res.body).toMatchObject({ statusCode: status });
  expect(res.body.accessToken).toBeUndefined();
  if (status === 401) expect(res.headers['www-authenticate']).toBe('Bearer');
  await unchanged();
}

describe('attacks with forged or misused tokens (HS256 app)', () => {
  let t: TestApp;
  let victim: TestUser;
  /** Claims of a real, live session of the victim: only the forged part is wrong. */
  let claims: { sub: string; sid: unknown };

  beforeAll(async () => {
    t = await createTestApp({ label: 'sec_tokens' });
    victim = await signupAndLogin(t.app);
    claims = { sub: victim.id, sid: decodePayload(victim.token).sid };
  });

  afterAll(() => t.close());

  it('control: the same request with the genuine token succeeds', async () => {
    const res = await renameWith(t.app, victim.auth.Authorization);
    expect(res.status).toBe(200);
    expect(res.body.name).toBe('Pwned');
  });

  it('alg: none', () =>
    expectRefused(t.app, () => renameWith(t.app, `Bearer ${unsignedToken(claims)}`)));

  it('alg: none with an empty-string signature and mixed-case "None"', () => {
    const token = `${b64url({ alg: 'None', typ: 'JWT' })}.${b64url({
      ...claims,
      iss: TEST_ISSUER,
      aud: TEST_AUDIENCE,
      iat: now(),
      exp: now() + 600,
    })}.`;
    return expectRefused(t.app, () => renameWith(t.app, `Bearer ${token}`));
  });

  it('signed with a wrong secret', () =>
    expectRefused(t.app, () =>
      renameWith(
        t.app,
        `Bearer ${forgeToken(claims, { secret: 'attacker-chosen-secret-0123456789abcdef' })}`,
      ),
    ));

  it('tampered payload (another user as subject, original signature)', async () => {
    const attacker = await signupAndLogin(t.app);
    const [header, , signature] = attacker.token.split('.');
    const payload = b64url({ ...decodePayload(attacker.token), ...claims });
    await expectRefused(t.app, () => renameWith(t.app, `Bearer ${header}.${payload}.${signature}`));
  });

  it('expired', () =>
    expectRefused(t.app, () =>
      renameWith(
        t.app,
        `Bearer ${forgeToken({ ...claims, iat: now() - 3600 }, { expiresIn: 60 })}`,
      ),
    ));

  it('not yet valid (nbf in the future)', () =>
    expectRefused(t.app, () =>
      renameWith(t.app, `Bearer ${forgeToken(claims, { notBefore: 3600 })}`),
    ));

  it('wrong issuer', () =>
    expectRefused(t.app, () =>
      renameWith(t.app, `Bearer ${forgeToken(claims, { issuer: 'evil-issuer' })}`),
    ));

  it('wrong audience', () =>
    expectRefused(t.app, () =>
      renameWith(t.app, `Bearer ${forgeToken(claims, { audience: 'another-api' })}`),
    ));

  it('a refresh token sent as a bearer token', () =>
    expectRefused(t.app, () => renameWith(t.app, `Bearer ${victim.refreshToken}`)));

  it('an access token in the query string (?access_token=) is ignored', () =>
    expectRefused(t.app, () =>
      request(t.app.getHttpServer())
        .patch(`/api/users/me?access_token=${encodeURIComponent(victim.token)}`)
        .send({ name: 'Pwned' }),
    ));

  it('an access token sent to /auth/refresh', () =>
    expectRefused(t.app, () =>
      request(t.app.getHttpServer()).post('/api/auth/refresh').send({ refreshToken: victim.token }),
    ));
});

describe('attacks on an RS256 app', () => {
  const keys = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  let t: TestApp;
  let victim: TestUser;

  beforeAll(async () => {
    t = await createTestApp({
      label: 'sec_tokens_rs',
      env: {
        JWT_ALGORITHM: 'RS256',
        JWT_PRIVATE_KEY: keys.privateKey,
        JWT_PUBLIC_KEY: keys.publicKey,
      },
    });
    victim = await signupAndLogin(t.app);
  });

  afterAll(() => t.close());

  it('HS256 signed with the public key as HMAC secret (algorithm confusion)', async () => {
    const input = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(decodePayload(victim.token))}`;
    const signature = createHmac('sha256', keys.publicKey).update(input).digest('base64url');
    await expectRefused(t.app, () => renameWith(t.app, `Bearer ${input}.${signature}`));
  });

  it('HS256 signed with the test HMAC secret (another algorithm than configured)', () =>
    expectRefused(t.app, () =>
      renameWith(
        t.app,
        `Bearer ${forgeToken({ sub: victim.id, sid: decodePayload(victim.token).sid })}`,
      ),
    ));
});

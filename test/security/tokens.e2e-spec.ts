import { createHmac, generateKeyPairSync } from 'node:crypto';

import request from 'supertest';

import type { TestApp } from '../support/app.js';
import { createTestApp } from '../support/app.js';
import { expectUnchangedAfter } from '../support/db.js';
import {
  decodePayload,
  forgeToken,
  signRaw,
  TEST_AUDIENCE,
  TEST_ISSUER,
  unsignedToken,
} from '../support/tokens.js';
import type { TestUser } from '../support/users.js';
import { signupAndLogin } from '../support/users.js';

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
    const token = `${b64url({ alg: 'None', typ: 'at+jwt' })}.${b64url({
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

  /** RFC 8725 / RFC 9068: every claim required and typed, lifetime bounded, header typed. */
  describe('claims and header of a correctly signed token', () => {
    const ACCESS_TTL = 900;
    const forged = (payload: Record<string, unknown>, options: Parameters<typeof forgeToken>[1]) =>
      `Bearer ${forgeToken(payload, options)}`;

    it('control: a forged token with every claim right is accepted', async () => {
      const res = await renameWith(t.app, forged(claims, {}));
      expect(res.status).toBe(200);
    });

    it('without exp', () =>
      expectRefused(t.app, () => renameWith(t.app, forged(claims, { expiresIn: undefined }))));

    it('without iat', () =>
      expectRefused(t.app, () => renameWith(t.app, forged(claims, { noTimestamp: true }))));

    it('with a string iat', () =>
      expectRefused(t.app, () =>
        renameWith(
          t.app,
          `Bearer ${signRaw({
            ...claims,
            iss: TEST_ISSUER,
            aud: TEST_AUDIENCE,
            iat: String(now()),
            exp: now() + 600,
          })}`,
        ),
      ));

    it('control: signRaw with numeric claims is accepted', async () => {
      const token = signRaw({
        ...claims,
        iss: TEST_ISSUER,
        aud: TEST_AUDIENCE,
        iat: now(),
        exp: now() + 600,
      });
      expect((await renameWith(t.app, `Bearer ${token}`)).status).toBe(200);
    });

    it('with iat in the future (beyond the clock skew)', () =>
      expectRefused(t.app, () =>
        renameWith(t.app, forged({ ...claims, iat: now() + 120 }, { expiresIn: 600 })),
      ));

    it('with iat older than the access-token lifetime (exp still ahead)', () =>
      expectRefused(t.app, () =>
        renameWith(
          t.app,
          forged(
            { ...claims, iat: now() - ACCESS_TTL - 60, exp: now() + 60 },
            { expiresIn: undefined },
          ),
        ),
      ));

    it('living longer than the access-token lifetime (exp - iat)', () =>
      expectRefused(t.app, () =>
        renameWith(t.app, forged(claims, { expiresIn: ACCESS_TTL * 10 })),
      ));

    it('with a numeric sub', () =>
      expectRefused(t.app, () =>
        renameWith(
          t.app,
          forged({ ...claims, sub: Number.parseInt(victim.id.slice(0, 12), 16) }, {}),
        ),
      ));

    it('with a numeric sid', () =>
      expectRefused(t.app, () => renameWith(t.app, forged({ ...claims, sid: 12345 }, {}))));

    it('without a typ header', () =>
      expectRefused(t.app, () => renameWith(t.app, forged(claims, { typ: null }))));

    it('with typ: JWT (another kind of token signed with the same key)', () =>
      expectRefused(t.app, () => renameWith(t.app, forged(claims, { typ: 'JWT' }))));

    it('with typ: id_token+jwt', () =>
      expectRefused(t.app, () => renameWith(t.app, forged(claims, { typ: 'id_token+jwt' }))));
  });

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

  // The strategy remembers tokens it verified (verified-tokens.ts): what it remembers must not
  // outlive the token, its session, or survive a change of one character.
  describe('a token this instance has verified before', () => {
    it('is refused once it expires', async () => {
      const token = forgeToken({ ...claims, iat: now() }, { expiresIn: 2 });
      const me = () =>
        request(t.app.getHttpServer()).get('/api/users/me').set('Authorization', `Bearer ${token}`);
      expect((await me()).status).toBe(200);
      expect((await me()).status).toBe(200);
      const exp = decodePayload(token).exp as number;
      await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50));
      await expectRefused(t.app, () => renameWith(t.app, `Bearer ${token}`));
    });

    it('is refused once its session has ended', async () => {
      const user = await signupAndLogin(t.app);
      const me = () => request(t.app.getHttpServer()).get('/api/users/me').set(user.auth);
      expect((await me()).status).toBe(200);
      await request(t.app.getHttpServer())
        .post('/api/auth/logout')
        .set(user.auth)
        .send({ refreshToken: user.refreshToken })
        .expect(204);
      await expectRefused(t.app, () => renameWith(t.app, user.auth.Authorization));
    });

    it('does not vouch for the same token with its signature changed', async () => {
      const user = await signupAndLogin(t.app);
      await request(t.app.getHttpServer()).get('/api/users/me').set(user.auth).expect(200);
      const [header, payload, signature] = user.token.split('.');
      const flipped = signature.startsWith('A')
        ? `B${signature.slice(1)}`
        : `A${signature.slice(1)}`;
      await expectRefused(t.app, () => renameWith(t.app, `Bearer ${header}.${payload}.${flipped}`));
      // Another client sending the genuine token's claims with a forged signature is refused too.
      await expectRefused(t.app, () =>
        renameWith(t.app, `Bearer ${header}.${payload}.${signature.slice(0, -2)}`),
      );
    });
  });
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
    const input = `${b64url({ alg: 'HS256', typ: 'at+jwt' })}.${b64url(decodePayload(victim.token))}`;
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

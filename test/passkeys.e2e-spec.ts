import { jest } from '@jest/globals';
import type { Test } from 'supertest';
import request from 'supertest';

import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';
import { fakeClockOnly } from './support/clock.js';
import { connectionOf, expectUnchangedAfter } from './support/db.js';
import type { Fixtures } from './support/fixtures.js';
import { fixtures } from './support/fixtures.js';
import { enrolledUser } from './support/mfa.js';
import { registerPasskey } from './support/passkeys.js';
import { decodePayload } from './support/tokens.js';
import type { TestUser } from './support/users.js';
import { SoftAuthenticator } from './support/webauthn.js';

/**
 * Passkeys (issue 24): registration, the owner's list, usernameless login, the second step of a
 * password login, and re-authentication, driven by a software authenticator over real HTTP.
 * The attacks are in test/security/passkey-attacks.e2e-spec.ts.
 */
let t: TestApp;
let make: Fixtures;

const server = () => t.app.getHttpServer();
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const STEP_UP =
  /^Bearer error="insufficient_user_authentication", error_description="[^"]+", max_age=300$/;

beforeAll(async () => {
  t = await createTestApp({ label: 'passkeys' });
  make = fixtures(t.app);
});
afterAll(() => t.close());
afterEach(() => jest.useRealTimers());

/** Moves the app's clock past the allowed age of every authentication so far. */
const ageAuthentications = () => fakeClockOnly(new Date(Date.now() + 301 * 1000));

async function passkeyLogin(authenticator: SoftAuthenticator) {
  const options = await request(server()).post('/api/auth/passkeys/login/options').expect(200);
  return request(server())
    .post('/api/auth/passkeys/login')
    .send({ response: authenticator.assert(options.body) });
}

describe('registration', () => {
  it('asks for a discoverable credential with the account as user, its passkeys excluded', async () => {
    const user = await make.user({ name: 'Ada' });
    const first = await registerPasskey(t.app, user);
    const options = await request(server())
      .post('/api/auth/passkeys/registration/options')
      .set(user.auth)
      .expect(200);
    expect(options.headers['cache-control']).toBe('no-store');
    expect(options.body).toMatchObject({
      rp: { id: 'localhost', name: 'Guardhouse' },
      user: {
        id: Buffer.from(user.id, 'hex').toString('base64url'),
        name: user.email,
        displayName: 'Ada',
      },
      authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
      excludeCredentials: [{ id: first.credentialId, type: 'public-key' }],
      attestation: 'none',
      timeout: 300_000,
    });
    expect(options.body.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The same algorithms on every Node (the library adds ML-DSA-44 where the runtime has it).
    expect(options.body.pubKeyCredParams).toEqual(
      [-8, -7, -257].map((alg) => ({ alg, type: 'public-key' })),
    );
  });

  it('stores the verified credential and answers it as a PasskeyDto', async () => {
    const user = await make.user();
    const authenticator = new SoftAuthenticator();
    const options = await request(server())
      .post('/api/auth/passkeys/registration/options')
      .set(user.auth)
      .expect(200);
    const response = authenticator.register(options.body);
    const created = await request(server())
      .post('/api/auth/passkeys/registration')
      .set(user.auth)
      .send({ response, name: '  Laptop ' })
      .expect(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      name: 'Laptop',
      createdAt: expect.any(String),
      lastUsedAt: null,
      backedUp: false,
      transports: ['internal'],
    });
    const stored = await connectionOf(t.app)
      .collection('passkey_credentials')
      .findOne({ credentialId: response.id });
    expect(stored).toMatchObject({
      owner: expect.anything(),
      counter: 0,
      deviceType: 'singleDevice',
    });
    expect(stored?.owner.toString()).toBe(user.id);
  });

  it('lists, renames and removes the owner’s passkeys', async () => {
    const user = await make.user();
    const a = await registerPasskey(t.app, user, undefined, 'Laptop');
    const b = await registerPasskey(t.app, user, undefined, 'Phone');
    const listed = await request(server()).get('/api/auth/passkeys').set(user.auth).expect(200);
    expect(listed.body.map((p: { id: string; name: string }) => [p.id, p.name])).toEqual([
      [a.id, 'Laptop'],
      [b.id, 'Phone'],
    ]);
    const renamed = await request(server())
      .patch(`/api/auth/passkeys/${a.id}`)
      .set(user.auth)
      .send({ name: 'Work laptop' })
      .expect(200);
    expect(renamed.body).toMatchObject({ id: a.id, name: 'Work laptop' });
    await request(server()).delete(`/api/auth/passkeys/${b.id}`).set(user.auth).expect(204);
    const after = await request(server()).get('/api/auth/passkeys').set(user.auth).expect(200);
    expect(after.body.map((p: { name: string }) => p.name)).toEqual(['Work laptop']);
    // A removed passkey no longer logs in.
    expect((await passkeyLogin(b.authenticator)).status).toBe(401);
  });

  it('answers 404 for another account’s passkey (admins too), and changes nothing', async () => {
    const owner = await make.user();
    const other = await make.user();
    const admin = await make.admin();
    const { id } = await registerPasskey(t.app, owner);
    const unchanged = await expectUnchangedAfter(t.app, ['passkey_credentials']);
    for (const caller of [other, admin]) {
      await request(server())
        .patch(`/api/auth/passkeys/${id}`)
        .set(caller.auth)
        .send({ name: 'Mine now' })
        .expect(404);
      await request(server()).delete(`/api/auth/passkeys/${id}`).set(caller.auth).expect(404);
    }
    await unchanged();
  });

  /** Each step-up route: the request a fresh session makes (prepared before the clock moves). */
  const stepUpRoutes: [
    string,
    (user: TestUser, credential: string) => Promise<(token: string) => Test>,
    number,
  ][] = [
    [
      'POST /api/auth/passkeys/registration/options',
      () =>
        Promise.resolve((token) =>
          request(server()).post('/api/auth/passkeys/registration/options').set(bearer(token)),
        ),
      200,
    ],
    [
      'POST /api/auth/passkeys/registration',
      async (user) => {
        const options = await request(server())
          .post('/api/auth/passkeys/registration/options')
          .set(user.auth)
          .expect(200);
        const response = new SoftAuthenticator().register(options.body);
        return (token) =>
          request(server())
            .post('/api/auth/passkeys/registration')
            .set(bearer(token))
            .send({ response });
      },
      201,
    ],
    [
      'DELETE /api/auth/passkeys/:id',
      (_user, id) =>
        Promise.resolve((token) =>
          request(server()).delete(`/api/auth/passkeys/${id}`).set(bearer(token)),
        ),
      204,
    ],
  ];

  it.each(stepUpRoutes)(
    '%s needs a recent authentication (RFC 9470 challenge, nothing stored), and a passkey renews it',
    async (_route, prepare, status) => {
      const user = await make.user();
      const passkey = await registerPasskey(t.app, user);
      const send = await prepare(user, passkey.id);
      ageAuthentications();
      const unchanged = await expectUnchangedAfter(t.app, ['passkey_credentials']);
      const refused = await send(user.token);
      expect(refused.status).toBe(401);
      expect(refused.headers['www-authenticate']).toMatch(STEP_UP);
      await unchanged();
      const stepped = await reauthenticateWithPasskey(user, passkey.authenticator);
      if (_route === 'POST /api/auth/passkeys/registration') {
        // The refused attempt used its challenge up: the retry starts over.
        const again = await prepare({ ...user, auth: bearer(stepped) }, passkey.id);
        expect((await again(stepped)).status).toBe(status);
      } else {
        expect((await send(stepped)).status).toBe(status);
      }
    },
  );
});

async function reauthenticateWithPasskey(user: TestUser, authenticator: SoftAuthenticator) {
  const options = await request(server())
    .post('/api/auth/reauthenticate/options')
    .set(user.auth)
    .expect(200);
  const renewed = await request(server())
    .post('/api/auth/reauthenticate')
    .set(user.auth)
    .send({ passkey: authenticator.assert(options.body) })
    .expect(200);
  return renewed.body.accessToken as string;
}

describe('usernameless login', () => {
  it('gives a working token pair; amr hwk + mfa, no TOTP step even with TOTP on', async () => {
    const user = await enrolledUser(t.app);
    const { authenticator } = await registerPasskey(t.app, user);
    const options = await request(server()).post('/api/auth/passkeys/login/options').expect(200);
    expect(options.body).toEqual({
      rpId: 'localhost',
      challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      timeout: 300_000,
      userVerification: 'required',
    });
    const res = await request(server())
      .post('/api/auth/passkeys/login')
      .send({ response: authenticator.assert(options.body) })
      .expect(200);
    expect(res.body).toEqual({
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: 900,
    });
    const claims = decodePayload(res.body.accessToken);
    expect(claims.sub).toBe(user.id);
    expect(claims.amr).toEqual(['hwk', 'mfa']);
    await request(server()).get('/api/users/me').set(bearer(res.body.accessToken)).expect(200);
    const refreshed = await request(server())
      .post('/api/auth/refresh')
      .send({ refreshToken: res.body.refreshToken })
      .expect(200);
    expect(decodePayload(refreshed.body.accessToken).amr).toEqual(['hwk', 'mfa']);
    const listed = await request(server()).get('/api/auth/passkeys').set(user.auth).expect(200);
    expect(listed.body[0].lastUsedAt).toEqual(expect.any(String));
  });

  it('says swk for a synced (backed-up) passkey, and keeps the counter', async () => {
    const user = await make.user();
    const { authenticator, credentialId } = await registerPasskey(
      t.app,
      user,
      new SoftAuthenticator(undefined, true),
    );
    const res = await passkeyLogin(authenticator);
    expect(res.status).toBe(200);
    expect(decodePayload(res.body.accessToken).amr).toEqual(['swk', 'mfa']);
    const stored = await connectionOf(t.app)
      .collection('passkey_credentials')
      .findOne({ credentialId });
    expect(stored).toMatchObject({ counter: 1, backedUp: true });
  });

  it('refuses a disabled account with 403', async () => {
    const user = await make.user();
    const admin = await make.admin();
    const { authenticator } = await registerPasskey(t.app, user);
    await request(server())
      .patch(`/api/users/${user.id}`)
      .set(admin.auth)
      .send({ active: false })
      .expect(200);
    const unchanged = await expectUnchangedAfter(t.app, ['sessions', 'refresh_tokens']);
    expect((await passkeyLogin(authenticator)).status).toBe(403);
    await unchanged();
  });
});

describe('second step of a password login', () => {
  it('finishes with a passkey instead of a code: amr pwd + hwk + mfa; the mfaToken is spent', async () => {
    const user = await enrolledUser(t.app);
    const { authenticator, credentialId } = await registerPasskey(t.app, user);
    const first = await request(server())
      .post('/api/auth/login')
      .send({ email: user.email, password: user.password })
      .expect(200);
    const { mfaToken } = first.body;
    const options = await request(server())
      .post('/api/auth/login/mfa/passkey/options')
      .send({ mfaToken })
      .expect(200);
    expect(options.body.allowCredentials).toEqual([
      { id: credentialId, type: 'public-key', transports: ['internal'] },
    ]);
    const res = await request(server())
      .post('/api/auth/login/mfa/passkey')
      .send({ mfaToken, response: authenticator.assert(options.body) })
      .expect(200);
    expect(decodePayload(res.body.accessToken).amr).toEqual(['pwd', 'hwk', 'mfa']);
    expect(res.body.refreshToken).toEqual(expect.any(String));
    // The mfaToken finished its login: it cannot be used again, by a code or a passkey.
    await request(server())
      .post('/api/auth/login/mfa/passkey/options')
      .send({ mfaToken })
      .expect(401);
  });

  it('answers 404 for options when the account has no passkey', async () => {
    const user = await enrolledUser(t.app);
    const first = await request(server())
      .post('/api/auth/login')
      .send({ email: user.email, password: user.password })
      .expect(200);
    await request(server())
      .post('/api/auth/login/mfa/passkey/options')
      .send({ mfaToken: first.body.mfaToken })
      .expect(404);
  });
});

describe('re-authentication with a passkey', () => {
  it('refreshes auth_time for the same session: amr hwk + mfa', async () => {
    const user = await make.user();
    const { authenticator } = await registerPasskey(t.app, user);
    const before = decodePayload(user.token);
    ageAuthentications();
    const token = await reauthenticateWithPasskey(user, authenticator);
    const claims = decodePayload(token);
    expect(claims.sid).toBe(before.sid);
    expect(claims.amr).toEqual(['hwk', 'mfa']);
    expect(claims.auth_time as number).toBeGreaterThanOrEqual((before.auth_time as number) + 300);
    await request(server()).delete('/api/users/me').set(bearer(token)).expect(204);
  });

  it('answers 404 for options without a passkey, and 400 for two proofs at once', async () => {
    const user = await make.user();
    await request(server()).post('/api/auth/reauthenticate/options').set(user.auth).expect(404);
    const { authenticator } = await registerPasskey(t.app, user);
    const options = await request(server())
      .post('/api/auth/reauthenticate/options')
      .set(user.auth)
      .expect(200);
    await request(server())
      .post('/api/auth/reauthenticate')
      .set(user.auth)
      .send({ password: user.password, passkey: authenticator.assert(options.body) })
      .expect(400);
  });
});

describe('deleting the account', () => {
  it('deletes its passkeys and challenges', async () => {
    const user = await make.user();
    const admin = await make.admin();
    const { credentialId } = await registerPasskey(t.app, user);
    await request(server())
      .post('/api/auth/passkeys/registration/options')
      .set(user.auth)
      .expect(200);
    const db = connectionOf(t.app);
    const owner = (await db.collection('passkey_credentials').findOne({ credentialId }))?.owner;
    expect(owner?.toString()).toBe(user.id);
    expect(await db.collection('webauthn_challenges').countDocuments({ user: owner })).toBe(1);
    await request(server()).delete(`/api/users/${user.id}`).set(admin.auth).expect(204);
    expect(await db.collection('passkey_credentials').countDocuments({ owner })).toBe(0);
    expect(await db.collection('webauthn_challenges').countDocuments({ user: owner })).toBe(0);
  });
});

import { jest } from '@jest/globals';
import type { Response } from 'supertest';
import request from 'supertest';

import type { TestApp } from '../support/app.js';
import { createTestApp } from '../support/app.js';
import { fakeClockOnly } from '../support/clock.js';
import { expectUnchangedAfter } from '../support/db.js';
import type { Fixtures } from '../support/fixtures.js';
import { fixtures } from '../support/fixtures.js';
import type { TestSmtpServer } from '../support/mail.js';
import { mailIdle, startSmtpServer } from '../support/mail.js';
import { enrolledUser } from '../support/mfa.js';
import { registerPasskey } from '../support/passkeys.js';
import { decodePayload } from '../support/tokens.js';
import type { TestUser } from '../support/users.js';
import type { AssertionJson, RequestOptions, Tampering } from '../support/webauthn.js';
import { SoftAuthenticator, TEST_ORIGIN } from '../support/webauthn.js';

/**
 * Passkey attacks (issue 24), one hostile ceremony per test, with assertions and attestations
 * from a software authenticator that can be tampered with. Each must be refused AND leave no
 * credential, session, token or re-authentication behind.
 */
let t: TestApp;
let smtp: TestSmtpServer;
let make: Fixtures;

const server = () => t.app.getHttpServer();
/** What a refused ceremony must not have written. */
const ISSUED = ['passkey_credentials', 'sessions', 'refresh_tokens', 'session_authentications'];

beforeAll(async () => {
  smtp = await startSmtpServer();
  t = await createTestApp({
    label: 'passkey-attacks',
    // PUBLIC_URL as the other tests' default: the passkeys' origin and RP ID follow from it.
    env: { SMTP_URL: smtp.url, PUBLIC_URL: TEST_ORIGIN, MAIL_MAX_PER_IP: '100000' },
  });
  make = fixtures(t.app);
});
afterAll(async () => {
  await t.close();
  await smtp.close();
});
afterEach(() => jest.useRealTimers());

const loginOptions = async (): Promise<RequestOptions> =>
  (await request(server()).post('/api/auth/passkeys/login/options').expect(200)).body;

const passkeyLogin = (response: AssertionJson) =>
  request(server()).post('/api/auth/passkeys/login').send({ response });

/** Refused with `status`, and no token in the answer. */
function expectRefused(res: Response, status: number): void {
  expect(res.status).toBe(status);
  expect(res.body.accessToken).toBeUndefined();
  expect(res.body.refreshToken).toBeUndefined();
}

async function userWithPasskey(): Promise<{ user: TestUser; authenticator: SoftAuthenticator }> {
  const user = await make.user();
  const { authenticator } = await registerPasskey(t.app, user);
  return { user, authenticator };
}

describe('usernameless login', () => {
  it.each<[string, Tampering]>([
    ['a wrong origin (a phishing page)', { origin: 'https://guardhouse.evil.example' }],
    ['a wrong RP ID', { rpId: 'evil.example' }],
    ['user verification missing', { userVerified: false }],
    ['the registration ceremony type', { type: 'webauthn.create' }],
  ])('refuses an assertion with %s, and issues nothing', async (_label, tampering) => {
    const { authenticator } = await userWithPasskey();
    const options = await loginOptions();
    const unchanged = await expectUnchangedAfter(t.app, ISSUED);
    expectRefused(await passkeyLogin(authenticator.assert(options, tampering)), 401);
    await unchanged();
  });

  it('refuses a replayed challenge (the same assertion twice)', async () => {
    const { authenticator } = await userWithPasskey();
    const response = authenticator.assert(await loginOptions());
    await passkeyLogin(response).expect(200);
    const unchanged = await expectUnchangedAfter(t.app, ISSUED);
    expectRefused(await passkeyLogin(response), 401);
    await unchanged();
  });

  it('refuses a challenge answered after its 5 minutes', async () => {
    const { authenticator } = await userWithPasskey();
    const options = await loginOptions();
    fakeClockOnly(new Date(Date.now() + 5 * 60 * 1000 + 1000));
    const unchanged = await expectUnchangedAfter(t.app, ISSUED);
    expectRefused(await passkeyLogin(authenticator.assert(options)), 401);
    await unchanged();
  });

  it('refuses a challenge this server never handed out', async () => {
    const { authenticator } = await userWithPasskey();
    const options = await loginOptions();
    const unchanged = await expectUnchangedAfter(t.app, ISSUED);
    const forged = { ...options, challenge: Buffer.alloc(32, 7).toString('base64url') };
    expectRefused(await passkeyLogin(authenticator.assert(forged)), 401);
    await unchanged();
  });

  it('refuses a signature counter that went backwards (a cloned key) and mails the owner', async () => {
    const { user, authenticator } = await userWithPasskey();
    const clone = authenticator.clone();
    await passkeyLogin(authenticator.assert(await loginOptions(), { counter: 7 })).expect(200);
    const unchanged = await expectUnchangedAfter(t.app, ISSUED);
    expectRefused(await passkeyLogin(clone.assert(await loginOptions(), { counter: 7 })), 401);
    expectRefused(await passkeyLogin(clone.assert(await loginOptions(), { counter: 3 })), 401);
    await unchanged();
    await mailIdle(t.app);
    const notices = smtp
      .inbox(user.email)
      .filter((mail) => /passkey/i.test(mail.parsed.subject ?? ''));
    expect(notices).toHaveLength(2);
    expect(notices[0].parsed.text).toContain('signature counter went backwards');
  });

  it('refuses an assertion whose user handle names another account', async () => {
    const { authenticator } = await userWithPasskey();
    const other = await make.user();
    const options = await loginOptions();
    const response = authenticator.assert(options);
    response.response.userHandle = Buffer.from(other.id, 'hex').toString('base64url');
    const unchanged = await expectUnchangedAfter(t.app, ISSUED);
    expectRefused(await passkeyLogin(response), 401);
    await unchanged();
  });

  it('counts failures against the account’s login throttle: 429, for the password too', async () => {
    const user = await make.user();
    const { authenticator } = await registerPasskey(t.app, user);
    for (let i = 0; i < 5; i++) {
      const wrong = authenticator.assert(await loginOptions(), { origin: 'https://evil.example' });
      expectRefused(await passkeyLogin(wrong), 401);
    }
    expectRefused(await passkeyLogin(authenticator.assert(await loginOptions())), 429);
    const password = await request(server())
      .post('/api/auth/login')
      .send({ email: user.email, password: user.password });
    expect(password.status).toBe(429);
  });
});

describe('registration', () => {
  const registrationOptions = async (user: TestUser) =>
    (
      await request(server())
        .post('/api/auth/passkeys/registration/options')
        .set(user.auth)
        .expect(200)
    ).body;

  it.each<[string, Tampering]>([
    ['a wrong origin', { origin: 'https://guardhouse.evil.example' }],
    ['a wrong RP ID', { rpId: 'evil.example' }],
  ])('refuses an attestation with %s, and stores nothing', async (_label, tampering) => {
    const user = await make.user();
    const response = new SoftAuthenticator().register(await registrationOptions(user), tampering);
    const unchanged = await expectUnchangedAfter(t.app, ['passkey_credentials']);
    const res = await request(server())
      .post('/api/auth/passkeys/registration')
      .set(user.auth)
      .send({ response });
    expect(res.status).toBe(400);
    await unchanged();
  });

  it('refuses a registration challenge used by another account', async () => {
    const victim = await make.user();
    const attacker = await make.user();
    const response = new SoftAuthenticator().register(await registrationOptions(victim));
    const unchanged = await expectUnchangedAfter(t.app, ['passkey_credentials']);
    const res = await request(server())
      .post('/api/auth/passkeys/registration')
      .set(attacker.auth)
      .send({ response });
    expect(res.status).toBe(400);
    await unchanged();
  });

  it('refuses a registration challenge used by another session of the same account', async () => {
    const user = await make.user();
    const response = new SoftAuthenticator().register(await registrationOptions(user));
    const other = await request(server())
      .post('/api/auth/login')
      .send({ email: user.email, password: user.password })
      .expect(200);
    const unchanged = await expectUnchangedAfter(t.app, ['passkey_credentials']);
    const res = await request(server())
      .post('/api/auth/passkeys/registration')
      .set({ Authorization: `Bearer ${other.body.accessToken}` })
      .send({ response });
    expect(res.status).toBe(400);
    await unchanged();
  });

  it('refuses a login challenge offered for a registration', async () => {
    const user = await make.user();
    const login = await loginOptions();
    const options = { ...(await registrationOptions(user)), challenge: login.challenge };
    const response = new SoftAuthenticator().register(options);
    const unchanged = await expectUnchangedAfter(t.app, ['passkey_credentials']);
    const res = await request(server())
      .post('/api/auth/passkeys/registration')
      .set(user.auth)
      .send({ response });
    expect(res.status).toBe(400);
    await unchanged();
  });

  it('refuses a credential already registered, to another account or the same one (409)', async () => {
    const { user: holder, authenticator } = await userWithPasskey();
    const [credentialId] = authenticator.ids;
    for (const user of [await make.user(), holder]) {
      const response = authenticator.register(await registrationOptions(user), {}, credentialId);
      const unchanged = await expectUnchangedAfter(t.app, ['passkey_credentials']);
      const res = await request(server())
        .post('/api/auth/passkeys/registration')
        .set(user.auth)
        .send({ response });
      expect(res.status).toBe(409);
      await unchanged();
    }
  });
});

describe('second step of a password login', () => {
  async function passwordStep(user: TestUser): Promise<string> {
    const res = await request(server())
      .post('/api/auth/login')
      .send({ email: user.email, password: user.password })
      .expect(200);
    return res.body.mfaToken as string;
  }

  it('refuses another account’s passkey; the mfaToken still finishes with the owner’s own', async () => {
    const user = await enrolledUser(t.app);
    const own = await registerPasskey(t.app, user);
    const { authenticator: stranger } = await userWithPasskey();
    const mfaToken = await passwordStep(user);
    const options = (
      await request(server())
        .post('/api/auth/login/mfa/passkey/options')
        .send({ mfaToken })
        .expect(200)
    ).body;
    const unchanged = await expectUnchangedAfter(t.app, ISSUED);
    const res = await request(server())
      .post('/api/auth/login/mfa/passkey')
      .send({ mfaToken, response: stranger.assert(options, {}, stranger.ids[0]) });
    expectRefused(res, 401);
    await unchanged();
    const again = (
      await request(server())
        .post('/api/auth/login/mfa/passkey/options')
        .send({ mfaToken })
        .expect(200)
    ).body;
    await request(server())
      .post('/api/auth/login/mfa/passkey')
      .send({ mfaToken, response: own.authenticator.assert(again) })
      .expect(200);
  });

  it('refuses a challenge handed out for another mfaToken', async () => {
    const user = await enrolledUser(t.app);
    const { authenticator } = await registerPasskey(t.app, user);
    const first = await passwordStep(user);
    const second = await passwordStep(user);
    const options = (
      await request(server())
        .post('/api/auth/login/mfa/passkey/options')
        .send({ mfaToken: first })
        .expect(200)
    ).body;
    const unchanged = await expectUnchangedAfter(t.app, ISSUED);
    const res = await request(server())
      .post('/api/auth/login/mfa/passkey')
      .send({ mfaToken: second, response: authenticator.assert(options) });
    expectRefused(res, 401);
    await unchanged();
  });

  it('refuses a usernameless login challenge in the second step', async () => {
    const user = await enrolledUser(t.app);
    const { authenticator } = await registerPasskey(t.app, user);
    const mfaToken = await passwordStep(user);
    const unchanged = await expectUnchangedAfter(t.app, ISSUED);
    const res = await request(server())
      .post('/api/auth/login/mfa/passkey')
      .send({ mfaToken, response: authenticator.assert(await loginOptions()) });
    expectRefused(res, 401);
    await unchanged();
  });
});

describe('re-authentication', () => {
  const reauthOptions = async (user: TestUser): Promise<RequestOptions> =>
    (await request(server()).post('/api/auth/reauthenticate/options').set(user.auth).expect(200))
      .body;

  it('refuses another account’s passkey, and auth_time stays', async () => {
    const user = await make.user();
    await registerPasskey(t.app, user);
    const { authenticator: stranger } = await userWithPasskey();
    const options = await reauthOptions(user);
    const unchanged = await expectUnchangedAfter(t.app, ISSUED);
    const res = await request(server())
      .post('/api/auth/reauthenticate')
      .set(user.auth)
      .send({ passkey: stranger.assert(options, {}, stranger.ids[0]) });
    expectRefused(res, 400);
    await unchanged();
  });

  it('refuses a challenge handed to another session of the same account', async () => {
    const user = await make.user();
    const { authenticator } = await registerPasskey(t.app, user);
    const options = await reauthOptions(user);
    const other = await request(server())
      .post('/api/auth/login')
      .send({ email: user.email, password: user.password })
      .expect(200);
    const unchanged = await expectUnchangedAfter(t.app, ISSUED);
    const res = await request(server())
      .post('/api/auth/reauthenticate')
      .set({ Authorization: `Bearer ${other.body.accessToken}` })
      .send({ passkey: authenticator.assert(options) });
    expectRefused(res, 400);
    await unchanged();
    expect(decodePayload(other.body.accessToken).amr).toEqual(['pwd']);
  });
});

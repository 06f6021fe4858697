import { jest } from '@jest/globals';
import type { Response, Test } from 'supertest';
import request from 'supertest';

import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';
import { fakeClockOnly } from './support/clock.js';
import { connectionOf, expectUnchangedAfter } from './support/db.js';
import type { Fixtures } from './support/fixtures.js';
import { fixtures } from './support/fixtures.js';
import { codeAt, enrolledUser } from './support/mfa.js';
import { registerPasskey } from './support/passkeys.js';
import { decodePayload, forgeToken } from './support/tokens.js';
import type { TestUser } from './support/users.js';
import { login } from './support/users.js';

/**
 * Recent authentication for sensitive actions (RFC 9470 step-up, issue 24 item 2): tokens carry
 * `auth_time` and `amr`; `@RecentAuth()` routes refuse a session whose last authentication is
 * older than REAUTH_MAX_AGE_SECONDS (default 300) with the RFC's challenge, until
 * `POST /api/auth/reauthenticate` renews it. Old authentications come from a fake clock.
 */
const MAX_AGE = 300;
const STEP_UP_CHALLENGE =
  /^Bearer error="insufficient_user_authentication", error_description="[^"]+", max_age=300$/;
/** What a refused step-up leaves untouched. */
const GUARDED = [
  'users',
  'sessions',
  'refresh_tokens',
  'mfa_factors',
  'mfa_recovery_codes',
  'account_tokens',
  'api_keys',
];

let t: TestApp;
let make: Fixtures;

const server = () => t.app.getHttpServer();
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

beforeAll(async () => {
  t = await createTestApp({ label: 'recent-auth' });
  make = fixtures(t.app);
});
afterAll(() => t.close());
afterEach(() => jest.useRealTimers());

/** Moves the app's clock (Date) past the allowed age of every authentication so far. */
function ageAuthentications(): void {
  fakeClockOnly(new Date(Date.now() + (MAX_AGE + 1) * 1000));
}

function reauthenticate(user: TestUser, body: object): Test {
  return request(server()).post('/api/auth/reauthenticate').set(user.auth).send(body);
}

function expectStepUpRefusal(res: Response): void {
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toMatch(STEP_UP_CHALLENGE);
  expect(res.body.message).toContain('/api/auth/reauthenticate');
}

describe('auth_time and amr in access tokens', () => {
  it('carry the login: now and pwd; a refresh keeps them', async () => {
    const before = Math.floor(Date.now() / 1000);
    const user = await make.user();
    const claims = decodePayload(user.token);
    expect(claims.amr).toEqual(['pwd']);
    expect(claims.auth_time).toBeGreaterThanOrEqual(before - 1);
    expect(claims.auth_time).toBeLessThanOrEqual(claims.iat as number);
    const refreshed = await request(server())
      .post('/api/auth/refresh')
      .send({ refreshToken: user.refreshToken })
      .expect(200);
    const after = decodePayload(refreshed.body.accessToken);
    expect(after.auth_time).toBe(claims.auth_time);
    expect(after.amr).toEqual(['pwd']);
  });

  it('say two factors after a login with a TOTP code', async () => {
    const user = await enrolledUser(t.app);
    const first = await request(server())
      .post('/api/auth/login')
      .send({ email: user.email, password: user.password })
      .expect(200);
    const second = await request(server())
      .post('/api/auth/login/mfa')
      .send({ mfaToken: first.body.mfaToken, code: codeAt(user.secret, 1) })
      .expect(200);
    expect(decodePayload(second.body.accessToken).amr).toEqual(['pwd', 'otp', 'mfa']);
  });
});

/** One sensitive route: who calls it, and the request that should succeed for them. */
interface SensitiveRoute {
  route: string;
  /** A new caller (and whatever the request acts on), logged in now. */
  prepare(): Promise<{ caller: TestUser; send: (caller: TestUser) => Promise<Response> }>;
  status: number;
}

const sensitive: SensitiveRoute[] = [
  {
    route: 'PATCH /api/auth/password',
    status: 204,
    prepare: async () => ({
      caller: await make.user(),
      send: (caller) =>
        request(server())
          .patch('/api/auth/password')
          .set(caller.auth)
          .send({ currentPassword: caller.password, newPassword: 'An0ther!pass-9' }),
    }),
  },
  {
    route: 'POST /api/users/me/email',
    status: 202,
    prepare: async () => ({
      caller: await make.user(),
      send: (caller) =>
        request(server())
          .post('/api/users/me/email')
          .set(caller.auth)
          .send({ newEmail: `moved-${Date.now()}@example.com`, currentPassword: caller.password }),
    }),
  },
  {
    route: 'POST /api/auth/mfa/totp',
    status: 201,
    prepare: async () => ({
      caller: await make.user(),
      send: (caller) =>
        request(server())
          .post('/api/auth/mfa/totp')
          .set(caller.auth)
          .send({ password: caller.password }),
    }),
  },
  {
    route: 'DELETE /api/auth/mfa/totp',
    status: 204,
    prepare: async () => {
      const caller = await enrolledUser(t.app);
      return {
        caller,
        send: (c) =>
          request(server())
            .delete('/api/auth/mfa/totp')
            .set(c.auth)
            .send({ password: c.password, code: codeAt(caller.secret, 1) }),
      };
    },
  },
  {
    route: 'DELETE /api/users/me',
    status: 204,
    prepare: async () => ({
      caller: await make.user(),
      send: (caller) => request(server()).delete('/api/users/me').set(caller.auth),
    }),
  },
  {
    route: 'PATCH /api/users/:id',
    status: 200,
    prepare: async () => {
      const target = await make.user();
      return {
        caller: await make.newAdmin(),
        send: (caller) =>
          request(server())
            .patch(`/api/users/${target.id}`)
            .set(caller.auth)
            .send({ role: 'admin' }),
      };
    },
  },
  {
    route: 'DELETE /api/users/:id',
    status: 204,
    prepare: async () => {
      const target = await make.user();
      return {
        caller: await make.newAdmin(),
        send: (caller) => request(server()).delete(`/api/users/${target.id}`).set(caller.auth),
      };
    },
  },
  {
    route: 'DELETE /api/users/:id/mfa',
    status: 204,
    prepare: async () => {
      const target = await enrolledUser(t.app);
      return {
        caller: await make.newAdmin(),
        send: (caller) =>
          request(server())
            .delete(`/api/users/${target.id}/mfa`)
            .set(caller.auth)
            .send({ password: caller.password }),
      };
    },
  },
  {
    route: 'POST /api/auth/api-keys',
    status: 201,
    prepare: async () => ({
      caller: await make.user(),
      send: (caller) =>
        request(server())
          .post('/api/auth/api-keys')
          .set(caller.auth)
          .send({ name: 'step-up', scopes: ['todos:read'] }),
    }),
  },
];

describe.each(sensitive)('$route needs a recent authentication', ({ prepare, status }) => {
  it('goes through right after the login', async () => {
    const { caller, send } = await prepare();
    expect((await send(caller)).status).toBe(status);
  });

  it('is refused with the RFC 9470 challenge once it is older, and nothing changes', async () => {
    const { caller, send } = await prepare();
    ageAuthentications();
    const unchanged = await expectUnchangedAfter(t.app, GUARDED);
    expectStepUpRefusal(await send(caller));
    await unchanged();
  });

  it('goes through again after re-authenticating with the password', async () => {
    const { caller, send } = await prepare();
    ageAuthentications();
    const renewed = await reauthenticate(caller, { password: caller.password }).expect(200);
    expect(renewed.body).toEqual({
      accessToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: 900,
    });
    const stepped = {
      ...caller,
      token: renewed.body.accessToken,
      auth: bearer(renewed.body.accessToken),
    };
    expect((await send(stepped)).status).toBe(status);
  });
});

describe('POST /api/auth/reauthenticate', () => {
  it('renews auth_time for the same session; the refresh token keeps working and carries it', async () => {
    const user = await make.user();
    const loginClaims = decodePayload(user.token);
    ageAuthentications();
    const renewed = await reauthenticate(user, { password: user.password }).expect(200);
    const claims = decodePayload(renewed.body.accessToken);
    expect(claims.sid).toBe(loginClaims.sid);
    expect(claims.amr).toEqual(['pwd']);
    expect(claims.auth_time as number).toBeGreaterThanOrEqual(
      (loginClaims.auth_time as number) + MAX_AGE,
    );
    const refreshed = await request(server())
      .post('/api/auth/refresh')
      .send({ refreshToken: user.refreshToken })
      .expect(200);
    expect(decodePayload(refreshed.body.accessToken).auth_time).toBe(claims.auth_time);
  });

  it('takes a current code of the second factor, once', async () => {
    const user = await enrolledUser(t.app);
    ageAuthentications();
    const code = codeAt(user.secret, 1);
    const renewed = await reauthenticate(user, { code }).expect(200);
    expect(decodePayload(renewed.body.accessToken).amr).toEqual(['otp']);
    const replay = await reauthenticate(user, { code });
    expect(replay.status).toBe(400);
  });

  it('takes an assertion of one of the user’s passkeys (amr hwk + mfa), once', async () => {
    const user = await make.user();
    const { authenticator } = await registerPasskey(t.app, user);
    ageAuthentications();
    const options = await request(server())
      .post('/api/auth/reauthenticate/options')
      .set(user.auth)
      .expect(200);
    const passkey = authenticator.assert(options.body);
    const renewed = await reauthenticate(user, { passkey }).expect(200);
    expect(decodePayload(renewed.body.accessToken).amr).toEqual(['hwk', 'mfa']);
    expect((await reauthenticate(user, { passkey })).status).toBe(400);
  });

  it('refuses a wrong password (counted like a failed login) and changes nothing', async () => {
    const user = await make.user();
    const unchanged = await expectUnchangedAfter(t.app, ['session_authentications']);
    const res = await reauthenticate(user, { password: 'Not-the-password-1' });
    expect(res.status).toBe(400);
    await unchanged();
    const failures = await connectionOf(t.app)
      .collection('login_failures')
      .countDocuments({ email: user.email, pending: false });
    expect(failures).toBe(1);
  });

  it.each([
    ['both a password and a code', (u: TestUser) => ({ password: u.password, code: '123456' })],
    ['neither', () => ({})],
    ['a code without a second factor', () => ({ code: '123456' })],
  ])('refuses %s with 400', async (_label, body) => {
    const user = await make.user();
    expect((await reauthenticate(user, body(user))).status).toBe(400);
  });

  it('refuses a token that carries no auth_time on sensitive routes, and renews it', async () => {
    const user = await make.user();
    const { sub, sid } = decodePayload(user.token);
    const legacy = forgeToken({ sub, sid });
    const me = await request(server()).get('/api/users/me').set(bearer(legacy));
    expect(me.status).toBe(200);
    expectStepUpRefusal(await request(server()).delete('/api/users/me').set(bearer(legacy)));
    const renewed = await request(server())
      .post('/api/auth/reauthenticate')
      .set(bearer(legacy))
      .send({ password: user.password })
      .expect(200);
    expect(decodePayload(renewed.body.accessToken).auth_time).toEqual(expect.any(Number));
  });

  it('needs a login, and refuses a session that has ended', async () => {
    await request(server())
      .post('/api/auth/reauthenticate')
      .send({ password: 'whatever-1' })
      .expect(401);
    const user = await make.user();
    await request(server())
      .post('/api/auth/logout')
      .send({ refreshToken: user.refreshToken })
      .expect(204);
    expect((await reauthenticate(user, { password: user.password })).status).toBe(401);
  });
});

describe('a step-up refusal for a caller without the role', () => {
  it('is a 403 (roles first), not a request to re-authenticate', async () => {
    const user = await make.user();
    const other = await make.user();
    ageAuthentications();
    const res = await request(server())
      .patch(`/api/users/${other.id}`)
      .set(user.auth)
      .send({ role: 'admin' });
    expect(res.status).toBe(403);
  });
});

it('a fresh login is recent again', async () => {
  const user = await make.user();
  ageAuthentications();
  const again = await login(t.app, user.email, user.password);
  expect((await request(server()).delete('/api/users/me').set(again.auth)).status).toBe(204);
});

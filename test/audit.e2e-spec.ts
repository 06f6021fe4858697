import { isDeepStrictEqual } from 'node:util';

import { Types } from 'mongoose';
import { Secret, TOTP } from 'otpauth';
import type { Response } from 'supertest';
import request from 'supertest';

import { AuditRetention } from '../src/auth/audit/audit-retention.service.js';
import type { AuditEventType } from '../src/auth/index.js';
import { AuditRecorder, KIT_AUDIT_EVENT_TYPES } from '../src/auth/index.js';
import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';
import { connectionOf } from './support/db.js';
import type { Fixtures } from './support/fixtures.js';
import { fixtures } from './support/fixtures.js';
import type { TestSmtpServer } from './support/mail.js';
import { mailIdle, startSmtpServer, tokenFromLatest } from './support/mail.js';
import type { Enrolled } from './support/mfa.js';
import { codeAt, enrolledUser } from './support/mfa.js';
import { registerPasskey } from './support/passkeys.js';
import { decodePayload } from './support/tokens.js';
import type { TestUser } from './support/users.js';
import { login, STRONG_PASSWORD } from './support/users.js';
import { pollUntil } from './support/wait.js';
import { SoftAuthenticator } from './support/webauthn.js';

/** Every request of these tests says who it is, so events show the client. */
const UA = 'AuditTest/1.0 (e2e)';
const NEW_PASSWORD = 'An0ther!pass';
const RESET = /reset your password/;
const VERIFY = /confirm your email address/;
const CONFIRM_CHANGE = /confirm your new email address/;

interface EventBody {
  id: string;
  at: string;
  type: string;
  actor: string;
  subject: string | null;
  session: string | null;
  ip: string | null;
  userAgent: string | null;
  instance: string;
  detail: Record<string, unknown>;
}

interface Page {
  items: EventBody[];
  total: number;
  next: string | null;
}

/** What a row expects of the event its action caused. */
interface Produced {
  actor: string;
  subject: string | null;
  session: string | null;
  detail: Record<string, unknown>;
  /** A valid login of the subject after the action: it reads the event on its own list too. */
  owner?: TestUser;
  /** False for events that no request caused (start-up). */
  fromRequest?: boolean;
}

let counter = 0;
const fresh = (label: string) => `${label}-${Date.now().toString(36)}-${counter++}@example.com`;
const sid = (user: { token: string }): string => decodePayload(user.token).sid as string;
/** An authenticator on this file's PUBLIC_URL origin (the passkeys' default). */
const device = () => new SoftAuthenticator('https://app.guardhouse.test');

/** A code no accepted time step produces now. */
const wrongCode = (secret: string): string => {
  const totp = new TOTP({ secret: Secret.fromBase32(secret) });
  const taken = new Set(
    [-2, -1, 0, 1, 2].map((s) => totp.generate({ timestamp: Date.now() + s * 30_000 })),
  );
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, '0');
    if (!taken.has(code)) return code;
  }
};

describe('audit trail', () => {
  let smtp: TestSmtpServer;
  let t: TestApp;
  let server: ReturnType<TestApp['app']['getHttpServer']>;
  let make: Fixtures;
  let admin: TestUser;
  const logOutput: string[] = [];

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await createTestApp({
      label: 'audit',
      env: {
        SMTP_URL: smtp.url,
        PUBLIC_URL: 'https://app.guardhouse.test',
        MAIL_MAX_PER_IP: '100000',
        AUDIT_FLUSH_INTERVAL_MS: '20',
        LOG_LEVEL: 'info',
      },
      logDestination: { write: (line: string) => void logOutput.push(line) },
    });
    server = t.app.getHttpServer();
    make = fixtures(t.app);
    admin = await make.admin();
  });

  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const call = (method: 'get' | 'post' | 'patch' | 'delete', path: string, who?: TestUser) => {
    const req = request(server)[method](path).set('User-Agent', UA);
    return who ? req.set(who.auth) : req;
  };

  const logInAs = async (email: string, password: string): Promise<TestUser> => {
    const res = await call('post', '/api/auth/login').send({ email, password }).expect(200);
    const auth = { Authorization: `Bearer ${res.body.accessToken}` };
    const me = await request(server).get('/api/users/me').set(auth).expect(200);
    return {
      id: me.body.id,
      email,
      password,
      token: res.body.accessToken,
      refreshToken: res.body.refreshToken,
      auth,
    };
  };

  const page = async (path: string, reader: TestUser): Promise<Page> => {
    const res: Response = await request(server).get(path).set(reader.auth);
    expect({ path, status: res.status }).toEqual({ path, status: 200 });
    return res.body as Page;
  };

  /** Polls a list until an event recorded since `since` satisfies `match`; returns it. */
  const awaitEvent = async (
    path: string,
    reader: TestUser,
    since: number,
    match: (event: EventBody) => boolean = () => true,
  ): Promise<EventBody | undefined> => {
    const found = (body: Page) => body.items.find((e) => Date.parse(e.at) >= since - 5 && match(e));
    const body = await pollUntil(
      () => page(path, reader),
      (b) => found(b) !== undefined,
      { timeoutMs: 10_000, intervalMs: 25 },
    );
    return found(body);
  };

  const passwordStep = async (user: TestUser): Promise<string> => {
    const res = await call('post', '/api/auth/login')
      .send({ email: user.email, password: user.password })
      .expect(200);
    expect(res.body.mfaRequired).toBe(true);
    return res.body.mfaToken as string;
  };

  const adminId = () => admin.id;
  const adminSession = () => sid(admin);

  type Row = [string, AuditEventType, () => Promise<Produced>];

  const ROWS: Row[] = [
    [
      'signup',
      'user.signed_up',
      async () => {
        const email = fresh('signup');
        const res = await call('post', '/api/auth/signup')
          .send({ email, password: STRONG_PASSWORD, name: 'New' })
          .expect(201);
        const id = res.body.id as string;
        return {
          actor: id,
          subject: id,
          session: null,
          detail: {},
          owner: await login(t.app, email, STRONG_PASSWORD),
        };
      },
    ],
    [
      'a login with the password',
      'login.succeeded',
      async () => {
        const user = await make.user();
        const again = await logInAs(user.email, user.password);
        return {
          actor: user.id,
          subject: user.id,
          session: sid(again),
          detail: { secondFactor: null },
          owner: again,
        };
      },
    ],
    [
      'a login with an unknown address',
      'login.failed',
      async () => {
        const email = fresh('nobody');
        await call('post', '/api/auth/login')
          .send({ email, password: STRONG_PASSWORD })
          .expect(401);
        return {
          actor: 'anonymous',
          subject: null,
          session: null,
          detail: { reason: 'unknown_account', email },
        };
      },
    ],
    [
      'a login with a wrong password',
      'login.failed',
      async () => {
        const user = await make.user();
        await call('post', '/api/auth/login')
          .send({ email: user.email, password: 'Wrong-pass-1!' })
          .expect(401);
        return {
          actor: 'anonymous',
          subject: user.id,
          session: null,
          detail: { reason: 'wrong_password', email: user.email },
          owner: user,
        };
      },
    ],
    [
      'a login to a disabled account',
      'login.failed',
      async () => {
        const user = await make.user();
        await call('patch', `/api/users/${user.id}`, admin).send({ active: false }).expect(200);
        await call('post', '/api/auth/login')
          .send({ email: user.email, password: user.password })
          .expect(403);
        return {
          actor: 'anonymous',
          subject: user.id,
          session: null,
          detail: { reason: 'disabled', email: user.email },
        };
      },
    ],
    [
      'a throttled login (429)',
      'login.failed',
      async () => {
        const user = await make.user();
        for (let i = 0; i < 5; i++) {
          await call('post', '/api/auth/login')
            .send({ email: user.email, password: 'Wrong-pass-1!' })
            .expect(401);
        }
        await call('post', '/api/auth/login')
          .send({ email: user.email, password: user.password })
          .expect(429);
        return {
          actor: 'anonymous',
          subject: user.id,
          session: null,
          detail: { reason: 'throttled', email: user.email },
          owner: user,
        };
      },
    ],
    [
      'a right password when a second factor is on',
      'mfa.required',
      async () => {
        const user = await enrolledUser(t.app);
        await passwordStep(user);
        return { actor: 'anonymous', subject: user.id, session: null, detail: {}, owner: user };
      },
    ],
    [
      'the second step with a code from the app',
      'mfa.succeeded',
      async () => {
        const user = await enrolledUser(t.app);
        const mfaToken = await passwordStep(user);
        const res = await call('post', '/api/auth/login/mfa')
          .send({ mfaToken, code: codeAt(user.secret, 1) })
          .expect(200);
        return {
          actor: user.id,
          subject: user.id,
          session: sid({ token: res.body.accessToken }),
          detail: { method: 'totp' },
          owner: user,
        };
      },
    ],
    [
      'the login that a second factor finished',
      'login.succeeded',
      async () => {
        const user = await enrolledUser(t.app);
        const mfaToken = await passwordStep(user);
        const res = await call('post', '/api/auth/login/mfa')
          .send({ mfaToken, code: codeAt(user.secret, 1) })
          .expect(200);
        return {
          actor: user.id,
          subject: user.id,
          session: sid({ token: res.body.accessToken }),
          detail: { secondFactor: 'totp' },
          owner: user,
        };
      },
    ],
    [
      'the second step with a wrong code',
      'mfa.failed',
      async () => {
        const user = await enrolledUser(t.app);
        const mfaToken = await passwordStep(user);
        await call('post', '/api/auth/login/mfa')
          .send({ mfaToken, code: wrongCode(user.secret) })
          .expect(401);
        return {
          actor: 'anonymous',
          subject: user.id,
          session: null,
          detail: { reason: 'wrong_code', method: 'totp' },
          owner: user,
        };
      },
    ],
    [
      'the second step with a recovery code',
      'mfa.recovery_code_used',
      async () => {
        const user = await enrolledUser(t.app);
        const mfaToken = await passwordStep(user);
        const res = await call('post', '/api/auth/login/mfa')
          .send({ mfaToken, recoveryCode: user.recoveryCodes[0] })
          .expect(200);
        expect(res.body.recoveryCodesRemaining).toBe(9);
        return {
          actor: user.id,
          subject: user.id,
          session: sid({ token: res.body.accessToken }),
          detail: { remaining: 9 },
          owner: user,
        };
      },
    ],
    [
      'confirming a TOTP enrolment',
      'mfa.enrolled',
      async () => {
        const user = await make.user();
        const start = await call('post', '/api/auth/mfa/totp', user)
          .send({ password: user.password })
          .expect(201);
        await call('post', '/api/auth/mfa/totp/confirm', user)
          .send({ code: codeAt(start.body.secret as string, 0) })
          .expect(200);
        return { actor: user.id, subject: user.id, session: sid(user), detail: {}, owner: user };
      },
    ],
    [
      'the owner turning the factor off',
      'mfa.removed',
      async () => {
        const user: Enrolled = await enrolledUser(t.app);
        await call('delete', '/api/auth/mfa/totp', user)
          .send({ password: user.password, code: codeAt(user.secret, 1) })
          .expect(204);
        return {
          actor: user.id,
          subject: user.id,
          session: sid(user),
          detail: { by: 'user' },
          owner: user,
        };
      },
    ],
    [
      'an admin turning a factor off',
      'mfa.removed',
      async () => {
        const user = await enrolledUser(t.app);
        await call('delete', `/api/users/${user.id}/mfa`, admin)
          .send({ password: admin.password })
          .expect(204);
        return {
          actor: adminId(),
          subject: user.id,
          session: adminSession(),
          detail: { by: 'admin' },
          owner: await login(t.app, user.email, user.password),
        };
      },
    ],
    [
      'a rotated refresh token presented again',
      'token.reuse_detected',
      async () => {
        const user = await make.user();
        const refreshToken = user.refreshToken;
        await call('post', '/api/auth/refresh').send({ refreshToken }).expect(200);
        await call('post', '/api/auth/refresh').send({ refreshToken }).expect(401);
        return {
          actor: 'anonymous',
          subject: user.id,
          session: sid(user),
          detail: {},
          owner: await login(t.app, user.email, user.password),
        };
      },
    ],
    [
      'a logout',
      'session.logged_out',
      async () => {
        const user = await make.user();
        await call('post', '/api/auth/logout')
          .send({ refreshToken: user.refreshToken })
          .expect(204);
        return {
          actor: user.id,
          subject: user.id,
          session: sid(user),
          detail: {},
          owner: await login(t.app, user.email, user.password),
        };
      },
    ],
    [
      'logging out everywhere',
      'session.logged_out_all',
      async () => {
        const user = await make.user();
        await call('post', '/api/auth/logout-all', user).expect(204);
        return {
          actor: user.id,
          subject: user.id,
          session: sid(user),
          detail: {},
          owner: await login(t.app, user.email, user.password),
        };
      },
    ],
    [
      'the owner ending one of their sessions',
      'session.ended',
      async () => {
        const user = await make.user();
        const other = await login(t.app, user.email, user.password);
        await call('delete', `/api/auth/sessions/${sid(other)}`, user).expect(204);
        return {
          actor: user.id,
          subject: user.id,
          session: sid(other),
          detail: { by: 'user' },
          owner: user,
        };
      },
    ],
    [
      "an admin ending a user's session",
      'session.ended',
      async () => {
        const user = await make.user();
        await call('delete', `/api/users/${user.id}/sessions/${sid(user)}`, admin).expect(204);
        return {
          actor: adminId(),
          subject: user.id,
          session: sid(user),
          detail: { by: 'admin' },
          owner: await login(t.app, user.email, user.password),
        };
      },
    ],
    [
      'a re-authentication with the password',
      'session.reauthenticated',
      async () => {
        const user = await make.user();
        await call('post', '/api/auth/reauthenticate', user)
          .send({ password: user.password })
          .expect(200);
        return {
          actor: user.id,
          subject: user.id,
          session: sid(user),
          detail: { methods: ['pwd'] },
          owner: user,
        };
      },
    ],
    [
      'a password change',
      'password.changed',
      async () => {
        const user = await make.user();
        await call('patch', '/api/auth/password', user)
          .send({ currentPassword: user.password, newPassword: NEW_PASSWORD })
          .expect(204);
        return {
          actor: user.id,
          subject: user.id,
          session: sid(user),
          detail: {},
          owner: await login(t.app, user.email, NEW_PASSWORD),
        };
      },
    ],
    [
      'asking for a reset link',
      'password.reset_requested',
      async () => {
        const user = await make.user({ email: fresh('forgot') });
        await call('post', '/api/auth/password/forgot').send({ email: user.email }).expect(202);
        await mailIdle(t.app);
        return { actor: 'anonymous', subject: user.id, session: null, detail: {}, owner: user };
      },
    ],
    [
      'setting a new password with the link',
      'password.reset',
      async () => {
        const user = await make.user({ email: fresh('reset') });
        await call('post', '/api/auth/password/forgot').send({ email: user.email }).expect(202);
        await mailIdle(t.app);
        const token = tokenFromLatest(smtp, user.email, RESET);
        await call('post', '/api/auth/password/reset')
          .send({ token, newPassword: NEW_PASSWORD })
          .expect(204);
        return {
          actor: user.id,
          subject: user.id,
          session: null,
          detail: {},
          owner: await login(t.app, user.email, NEW_PASSWORD),
        };
      },
    ],
    [
      'asking for a new verification link',
      'email.verification_requested',
      async () => {
        const user = await make.user({ email: fresh('resend') });
        await call('post', '/api/auth/email/resend', user).expect(202);
        return { actor: user.id, subject: user.id, session: sid(user), detail: {}, owner: user };
      },
    ],
    [
      'verifying the address with the link',
      'email.verified',
      async () => {
        const user = await make.user({ email: fresh('verify') });
        await mailIdle(t.app);
        const token = tokenFromLatest(smtp, user.email, VERIFY);
        await call('post', '/api/auth/email/verify').send({ token }).expect(204);
        return { actor: user.id, subject: user.id, session: null, detail: {}, owner: user };
      },
    ],
    [
      'asking to change the address',
      'email.change_requested',
      async () => {
        const user = await make.user({ email: fresh('move') });
        const newEmail = fresh('moved');
        await call('post', '/api/users/me/email', user)
          .send({ newEmail, currentPassword: user.password })
          .expect(202);
        return {
          actor: user.id,
          subject: user.id,
          session: sid(user),
          detail: { newEmail },
          owner: user,
        };
      },
    ],
    [
      'confirming the new address',
      'email.changed',
      async () => {
        const user = await make.user({ email: fresh('change') });
        const newEmail = fresh('changed');
        await call('post', '/api/users/me/email', user)
          .send({ newEmail, currentPassword: user.password })
          .expect(202);
        await mailIdle(t.app);
        const token = tokenFromLatest(smtp, newEmail, CONFIRM_CHANGE);
        await call('post', '/api/auth/email/change/confirm').send({ token }).expect(204);
        return {
          actor: user.id,
          subject: user.id,
          session: null,
          detail: { previousEmail: user.email, newEmail },
          owner: await login(t.app, newEmail, user.password),
        };
      },
    ],
    [
      'an admin changing a role',
      'user.role_changed',
      async () => {
        const user = await make.user();
        await call('patch', `/api/users/${user.id}`, admin).send({ role: 'admin' }).expect(200);
        return {
          actor: adminId(),
          subject: user.id,
          session: adminSession(),
          detail: { from: 'user', to: 'admin' },
          owner: user,
        };
      },
    ],
    [
      'an admin disabling an account',
      'user.disabled',
      async () => {
        const user = await make.user();
        await call('patch', `/api/users/${user.id}`, admin).send({ active: false }).expect(200);
        return {
          actor: adminId(),
          subject: user.id,
          session: adminSession(),
          detail: { by: 'admin' },
        };
      },
    ],
    [
      'the owner disabling their account',
      'user.disabled',
      async () => {
        const user = await make.user();
        await call('delete', '/api/users/me', user).expect(204);
        return { actor: user.id, subject: user.id, session: sid(user), detail: { by: 'user' } };
      },
    ],
    [
      'an admin enabling an account',
      'user.enabled',
      async () => {
        const user = await make.user();
        await call('patch', `/api/users/${user.id}`, admin).send({ active: false }).expect(200);
        await call('patch', `/api/users/${user.id}`, admin).send({ active: true }).expect(200);
        return {
          actor: adminId(),
          subject: user.id,
          session: adminSession(),
          detail: {},
          owner: await login(t.app, user.email, user.password),
        };
      },
    ],
    [
      'an admin deleting an account',
      'user.deleted',
      async () => {
        const user = await make.user();
        await call('delete', `/api/users/${user.id}`, admin).expect(204);
        return { actor: adminId(), subject: user.id, session: adminSession(), detail: {} };
      },
    ],
    [
      'the start-up creating the configured admin',
      'admin.ensured',
      () =>
        Promise.resolve({
          actor: 'system',
          subject: adminId(),
          session: null,
          detail: { outcome: 'created' },
          owner: admin,
          fromRequest: false,
        }),
    ],
    [
      'adding a passkey',
      'passkey.registered',
      async () => {
        const user = await make.user();
        const options = await call('post', '/api/auth/passkeys/registration/options', user);
        const created = await call('post', '/api/auth/passkeys/registration', user)
          .send({ response: device().register(options.body) })
          .expect(201);
        const detail = { credential: created.body.id };
        return { actor: user.id, subject: user.id, session: sid(user), detail, owner: user };
      },
    ],
    [
      'renaming a passkey',
      'passkey.renamed',
      async () => {
        const user = await make.user();
        const { id } = await registerPasskey(t.app, user, device());
        await call('patch', `/api/auth/passkeys/${id}`, user).send({ name: 'Phone' }).expect(200);
        const detail = { credential: id };
        return { actor: user.id, subject: user.id, session: sid(user), detail, owner: user };
      },
    ],
    [
      'removing a passkey',
      'passkey.removed',
      async () => {
        const user = await make.user();
        const { id } = await registerPasskey(t.app, user, device());
        await call('delete', `/api/auth/passkeys/${id}`, user).expect(204);
        const detail = { credential: id };
        return { actor: user.id, subject: user.id, session: sid(user), detail, owner: user };
      },
    ],
    [
      'a login with a passkey alone',
      'passkey.login_succeeded',
      async () => {
        const user = await make.user();
        const { id, authenticator } = await registerPasskey(t.app, user, device());
        const options = await call('post', '/api/auth/passkeys/login/options').expect(200);
        await call('post', '/api/auth/passkeys/login')
          .send({ response: authenticator.assert(options.body) })
          .expect(200);
        return {
          actor: user.id,
          subject: user.id,
          session: null,
          detail: { credential: id, ceremony: 'login', userVerified: true },
          owner: user,
        };
      },
    ],
    [
      'a passkey login without user verification',
      'passkey.login_failed',
      async () => {
        const user = await make.user();
        const { authenticator } = await registerPasskey(t.app, user, device());
        const options = await call('post', '/api/auth/passkeys/login/options').expect(200);
        await call('post', '/api/auth/passkeys/login')
          .send({ response: authenticator.assert(options.body, { userVerified: false }) })
          .expect(401);
        return {
          actor: 'anonymous',
          subject: user.id,
          session: null,
          detail: { reason: 'user_verification_missing', ceremony: 'login' },
          owner: user,
        };
      },
    ],
    [
      'a passkey assertion whose signature counter went backwards',
      'passkey.counter_regressed',
      async () => {
        const user = await make.user();
        const { id, authenticator } = await registerPasskey(t.app, user, device());
        for (const counter of [5, 3]) {
          const options = await call('post', '/api/auth/passkeys/login/options').expect(200);
          await call('post', '/api/auth/passkeys/login')
            .send({ response: authenticator.assert(options.body, { counter }) })
            .expect(counter === 5 ? 200 : 401);
        }
        return {
          actor: 'anonymous',
          subject: user.id,
          session: null,
          detail: { credential: id, storedCounter: 5, presentedCounter: 3 },
          owner: user,
        };
      },
    ],
  ];

  it('has a row for every event type of the catalogue', () => {
    expect([...new Set(ROWS.map(([, type]) => type))].sort()).toEqual(
      [...KIT_AUDIT_EVENT_TYPES].sort(),
    );
  });

  describe.each(ROWS)('%s', (_title, type, act) => {
    it(`records ${type} with its actor, subject and session, readable through the API`, async () => {
      const since = type === 'admin.ensured' ? 0 : Date.now();
      const produced = await act();
      // The event of this action: its subject, session and detail (the setup may cause others).
      const same = (e: EventBody) =>
        e.subject === produced.subject &&
        e.session === produced.session &&
        Object.entries(produced.detail).every(([k, v]) => isDeepStrictEqual(e.detail[k], v));
      const filter = produced.subject ? `subject=${produced.subject}` : 'actor=anonymous';
      const event = await awaitEvent(
        `/api/audit-events?type=${type}&${filter}&limit=100`,
        admin,
        since,
        same,
      );
      expect(event).toMatchObject({
        type,
        actor: produced.actor,
        subject: produced.subject,
        session: produced.session,
        detail: produced.detail,
        instance: expect.stringMatching(/.+/),
      });
      expect(Object.keys(event?.detail ?? {}).sort()).toEqual(Object.keys(produced.detail).sort());
      if (produced.fromRequest === false) {
        expect(event).toMatchObject({ ip: null, userAgent: null });
      } else {
        expect(event?.ip).toMatch(/127\.0\.0\.1$/);
        expect(event?.userAgent).toBe(UA);
      }
      if (produced.owner) {
        const own = await awaitEvent(`/api/users/me/events?type=${type}`, produced.owner, since);
        expect(own?.id).toBe(event?.id);
      }
    });
  });

  describe('reading', () => {
    it("shows a user their own account's events only, and refuses the admin list", async () => {
      const [a, b] = await make.users(2);
      const since = Date.now();
      for (const user of [a, b]) {
        await call('post', '/api/auth/login')
          .send({ email: user.email, password: 'Wrong-pass-1!' })
          .expect(401);
      }
      for (const [me, other] of [
        [a, b],
        [b, a],
      ]) {
        const mine = await awaitEvent('/api/users/me/events', me, since, (e) => {
          return e.type === 'login.failed';
        });
        expect(mine?.subject).toBe(me.id);
        const all = await page('/api/users/me/events?limit=100', me);
        expect(all.items.length).toBeGreaterThanOrEqual(3);
        expect(all.items.every((e) => e.subject === me.id)).toBe(true);
        expect(JSON.stringify(all)).not.toContain(other.id);
        // Nobody picks another subject: the parameter does not exist on this route.
        await request(server)
          .get(`/api/users/me/events?subject=${other.id}`)
          .set(me.auth)
          .expect(400);
        await request(server).get('/api/audit-events').set(me.auth).expect(403);
      }
      await request(server).get('/api/users/me/events').expect(401);
    });

    it("pages an admin's filtered list across page boundaries, newest first", async () => {
      const user = await make.user();
      for (let i = 0; i < 4; i++) await logInAs(user.email, user.password);
      await call('post', '/api/auth/login')
        .send({ email: user.email, password: 'Wrong-pass-1!' })
        .expect(401);
      // The fixture's login and these four.
      const logins = await pollUntil(
        () => page(`/api/audit-events?subject=${user.id}&type=login.succeeded&limit=100`, admin),
        (body) => body.items.length === 5,
      );
      expect(logins.total).toBe(5);
      const all = logins.items;
      for (let i = 1; i < all.length; i++) {
        const [newer, older] = [all[i - 1], all[i]];
        expect(Date.parse(newer.at) > Date.parse(older.at) || newer.id > older.id).toBe(true);
      }

      const walk = async (query: string, limit: number): Promise<EventBody[][]> => {
        const pages: EventBody[][] = [];
        let after: string | null = null;
        do {
          const cursor: string = after ? `&after=${after}` : '';
          const body = await page(`/api/audit-events?${query}&limit=${limit}${cursor}`, admin);
          pages.push(body.items);
          after = body.next;
        } while (after && pages.length < 20);
        return pages;
      };
      const ids = (events: EventBody[]) => events.map((e) => e.id);

      const pages = await walk(`subject=${user.id}&type=login.succeeded`, 2);
      expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
      expect(ids(pages.flat())).toEqual(ids(all));

      // The same events by their actor (the user logged in), and the failure by `anonymous`.
      const byActor = await walk(`actor=${user.id}&type=login.succeeded`, 3);
      expect(ids(byActor.flat())).toEqual(ids(all));
      const failed = await page(`/api/audit-events?actor=anonymous&subject=${user.id}`, admin);
      expect(failed.items.map((e) => e.detail.reason)).toEqual(['wrong_password']);

      // Every type of the subject, paged by one, is the unpaged list.
      const everything = await page(`/api/audit-events?subject=${user.id}&limit=100`, admin);
      expect(everything.items.map((e) => e.type).sort()).toEqual(
        ['login.failed', ...Array<string>(5).fill('login.succeeded'), 'user.signed_up'].sort(),
      );
      const byOne = await walk(`subject=${user.id}`, 1);
      expect(ids(byOne.flat())).toEqual(ids(everything.items));

      // from is inclusive, to exclusive, on the event's time.
      const pivot = all[2].at;
      const from = await walk(`subject=${user.id}&type=login.succeeded&from=${pivot}`, 2);
      expect(ids(from.flat())).toEqual(ids(all.filter((e) => e.at >= pivot)));
      const to = await walk(`subject=${user.id}&type=login.succeeded&to=${pivot}`, 2);
      expect(ids(to.flat())).toEqual(ids(all.filter((e) => e.at < pivot)));
      const window = await walk(
        `subject=${user.id}&type=login.succeeded&from=${all[3].at}&to=${all[0].at}`,
        1,
      );
      expect(ids(window.flat())).toEqual(ids(all.slice(1, 4)));
    });

    it.each([
      ['/api/audit-events?type=login.nothing', 'an unknown type'],
      ['/api/audit-events?type=Login', 'a type of another shape'],
      ['/api/users/me/events?type=no.such_event', 'an unknown type on your own list'],
      ['/api/audit-events?actor=somebody', 'an actor that is no id'],
      ['/api/audit-events?subject=123', 'a subject that is no id'],
      ['/api/audit-events?from=yesterday', 'a from that is no date'],
      ['/api/audit-events?to=2030-13-45', 'an impossible date'],
      ['/api/audit-events?from=2030-02-01&to=2030-01-01', 'from after to'],
      ['/api/audit-events?after=bm90LWEtY3Vyc29y', 'a cursor from nowhere'],
      ['/api/audit-events?type[$ne]=x', 'an operator'],
    ])('answers 400 for %s (%s)', async (path) => {
      const res = await request(server).get(path).set(admin.auth);
      expect(res.status).toBe(400);
    });
  });

  describe('recording', () => {
    it('writes one `event: audit` log line per event, without the password', async () => {
      const user = await make.user();
      const again = await logInAs(user.email, user.password);
      const lines = () =>
        logOutput
          .join('')
          .split('\n')
          .filter((line) => line.includes('"event":"audit"'))
          .map((line) => JSON.parse(line) as Record<string, unknown>);
      const line = lines().find(
        (l) => l.type === 'login.succeeded' && l.session === sid(again) && l.subject === user.id,
      );
      expect(line).toMatchObject({
        level: 'info',
        msg: 'audit event',
        event: 'audit',
        id: expect.stringMatching(/^[0-9a-f]{24}$/),
        at: expect.any(String),
        actor: user.id,
        ip: expect.stringMatching(/127\.0\.0\.1$/),
        userAgent: UA,
        instance: t.app.get(AuditRecorder).instance,
        detail: { secondFactor: null },
      });
      // The same event is the one stored.
      const stored = await awaitEvent(
        '/api/users/me/events?type=login.succeeded',
        again,
        0,
        (e) => e.session === sid(again),
      );
      expect(stored?.id).toBe(line?.id);
      expect(logOutput.join('')).not.toContain(STRONG_PASSWORD);
    });

    it("shows the recorder's counters in /api/health", async () => {
      const res = await request(server).get('/api/health').expect(200);
      expect(res.body.details.audit).toEqual({
        status: 'up',
        buffered: expect.any(Number),
        dropped: 0,
      });
    });
  });

  describe('retention', () => {
    it('deletes events past AUDIT_RETENTION_DAYS, on one of two instances per period', async () => {
      const second = await createTestApp({ mongoUri: t.mongoUri });
      try {
        // A period of its own, a week ahead: no timer of these apps has swept it.
        const now = new Date(Date.now() + 7 * 24 * 3600_000);
        const daysBefore = (days: number) => new Date(now.getTime() - days * 24 * 3600_000);
        const events = connectionOf(t.app).collection('audit_events');
        const probe = new Types.ObjectId().toHexString();
        const base = { type: 'user.signed_up', actor: probe, subject: probe, instance: 'test' };
        await events.insertMany([
          { ...base, _id: new Types.ObjectId(), at: daysBefore(366), detail: { age: 366 } },
          { ...base, _id: new Types.ObjectId(), at: daysBefore(400), detail: { age: 400 } },
          { ...base, _id: new Types.ObjectId(), at: daysBefore(364), detail: { age: 364 } },
        ]);
        const results = await Promise.all(
          [t.app, second.app].map((app) => app.get(AuditRetention).sweep(now)),
        );
        expect(results.filter((r) => r === null)).toHaveLength(1);
        expect(results.find((r) => r !== null)).toBe(2);
        const left = await events.find({ actor: probe }).toArray();
        expect(left.map((e) => (e.detail as { age: number }).age)).toEqual([364]);
        // Later in the same period nobody sweeps again; in the next one, one instance does.
        const later = new Date(now.getTime() + 1000);
        expect(await t.app.get(AuditRetention).sweep(later)).toBeNull();
        expect(await second.app.get(AuditRetention).sweep(later)).toBeNull();
        const next = new Date(now.getTime() + 3600_000);
        expect(await second.app.get(AuditRetention).sweep(next)).toBe(0);
        // Events of this run (a week "before" now) are far inside the retention.
        const recent = await page('/api/audit-events?type=user.signed_up&limit=1', admin);
        expect(recent.items).toHaveLength(1);
      } finally {
        await second.close();
      }
    });
  });
});

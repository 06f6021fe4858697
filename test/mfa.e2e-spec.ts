import { Types } from 'mongoose';
import { Secret, TOTP } from 'otpauth';
import request from 'supertest';

import type { TestApp } from './support/app.js';
import { createTestApp, TEST_ADMIN } from './support/app.js';
import { connectionOf, expectUnchangedAfter } from './support/db.js';
import { fixtures } from './support/fixtures.js';
import type { TestSmtpServer } from './support/mail.js';
import { mailIdle, startSmtpServer } from './support/mail.js';
import type { Enrolled } from './support/mfa.js';
import { codeAt, enrolledUser } from './support/mfa.js';
import type { TestUser } from './support/users.js';
import { loginAdmin, signupAndLogin } from './support/users.js';

type App = TestApp['app'];

/** A code that is surely wrong now: none of the accepted steps produces it. */
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

const passwordStep = async (app: App, user: TestUser): Promise<string> => {
  const res = await request(app.getHttpServer())
    .post('/api/auth/login')
    .send({ email: user.email, password: user.password })
    .expect(200);
  expect(res.body).toEqual({ mfaRequired: true, mfaToken: expect.any(String), expiresIn: 300 });
  return res.body.mfaToken;
};

const secondStep = (app: App, body: Record<string, unknown>) =>
  request(app.getHttpServer()).post('/api/auth/login/mfa').send(body);

const sessionCount = (app: App, userId: string) =>
  connectionOf(app)
    .collection('sessions')
    .countDocuments({ user: new Types.ObjectId(userId) });

describe('TOTP second factor', () => {
  let t: TestApp;
  let server: ReturnType<App['getHttpServer']>;

  beforeAll(async () => {
    t = await createTestApp({ label: 'mfa' });
    server = t.app.getHttpServer();
  });

  afterAll(() => t.close());

  describe('enrolment', () => {
    it('returns a secret, its otpauth URI and a QR code; nothing changes until confirmed', async () => {
      const user = await signupAndLogin(t.app);
      const res = await request(server)
        .post('/api/auth/mfa/totp')
        .set(user.auth)
        .send({ password: user.password })
        .expect(201);
      expect(res.body.secret).toMatch(/^[A-Z2-7]{32}$/);
      expect(res.body.otpauthUri).toMatch(/^otpauth:\/\/totp\/Guardhouse:.*secret=/);
      expect(res.body.otpauthUri).toContain(`secret=${res.body.secret}`);
      expect(res.body.qrCode).toMatch(/^data:image\/png;base64,/);
      // Not confirmed: the password alone still logs in.
      const login = await request(server)
        .post('/api/auth/login')
        .send({ email: user.email, password: user.password })
        .expect(200);
      expect(login.body.accessToken).toEqual(expect.any(String));
    });

    it('needs the current password', async () => {
      const user = await signupAndLogin(t.app);
      await request(server)
        .post('/api/auth/mfa/totp')
        .set(user.auth)
        .send({ password: 'wrong-password' })
        .expect(400);
      await request(server)
        .post('/api/auth/mfa/totp')
        .send({ password: user.password })
        .expect(401);
    });

    it('confirms with a code, returns ten distinct recovery codes once, and shows mfaEnabled', async () => {
      const user = await enrolledUser(t.app);
      expect(user.recoveryCodes).toHaveLength(10);
      expect(new Set(user.recoveryCodes).size).toBe(10);
      const status = await request(server).get('/api/auth/mfa').set(user.auth).expect(200);
      expect(status.body).toEqual({ totpEnabled: true, recoveryCodesRemaining: 10 });
      const me = await request(server).get('/api/users/me').set(user.auth).expect(200);
      expect(me.body.mfaEnabled).toBe(true);
      await request(server)
        .post('/api/auth/mfa/totp')
        .set(user.auth)
        .send({ password: user.password })
        .expect(409);
    });

    it('refuses a wrong confirmation code and stays off', async () => {
      const user = await signupAndLogin(t.app);
      const start = await request(server)
        .post('/api/auth/mfa/totp')
        .set(user.auth)
        .send({ password: user.password })
        .expect(201);
      await request(server)
        .post('/api/auth/mfa/totp/confirm')
        .set(user.auth)
        .send({ code: wrongCode(start.body.secret) })
        .expect(400);
      await request(server)
        .post('/api/auth/mfa/totp/confirm')
        .set(user.auth)
        .send({ code: 'abcdef' })
        .expect(400);
      const status = await request(server).get('/api/auth/mfa').set(user.auth).expect(200);
      expect(status.body.totpEnabled).toBe(false);
    });

    it('keeps the secret encrypted and recovery codes only as hashes', async () => {
      const user = await enrolledUser(t.app);
      const db = connectionOf(t.app);
      const factor = await db
        .collection('mfa_factors')
        .findOne({ _id: new Types.ObjectId(user.id) });
      expect(factor?.secret).toEqual(expect.any(String));
      expect(JSON.stringify(factor)).not.toContain(user.secret);
      const codes = JSON.stringify(
        await db
          .collection('mfa_recovery_codes')
          .find({ user: new Types.ObjectId(user.id) })
          .toArray(),
      );
      for (const code of user.recoveryCodes) {
        expect(codes).not.toContain(code);
        expect(codes).not.toContain(code.replace('-', ''));
      }
    });

    it('turns off with the password and a current code only', async () => {
      const user = await enrolledUser(t.app);
      const del = (body: Record<string, unknown>) =>
        request(server).delete('/api/auth/mfa/totp').set(user.auth).send(body);
      await del({ password: 'wrong-password', code: codeAt(user.secret, 1) }).expect(400);
      await del({ password: user.password, code: wrongCode(user.secret) }).expect(400);
      await del({ password: user.password }).expect(400);
      await del({ password: user.password, code: codeAt(user.secret, 1) }).expect(204);
      const login = await request(server)
        .post('/api/auth/login')
        .send({ email: user.email, password: user.password })
        .expect(200);
      expect(login.body.accessToken).toEqual(expect.any(String));
      await del({ password: user.password, code: codeAt(user.secret, 1) }).expect(409);
    });
  });

  describe('login with a second factor', () => {
    it('answers the password with a challenge and no session; a code finishes the login', async () => {
      const user = await enrolledUser(t.app);
      const before = await sessionCount(t.app, user.id);
      const mfaToken = await passwordStep(t.app, user);
      expect(await sessionCount(t.app, user.id)).toBe(before);
      const res = await secondStep(t.app, { mfaToken, code: codeAt(user.secret, 1) }).expect(200);
      expect(res.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
      expect(res.body.recoveryCodesRemaining).toBeUndefined();
      await request(server)
        .get('/api/users/me')
        .set('Authorization', `Bearer ${res.body.accessToken}`)
        .expect(200);
      expect(await sessionCount(t.app, user.id)).toBe(before + 1);
    });

    it('a recovery code finishes a login once and says how many remain', async () => {
      const user = await enrolledUser(t.app);
      const [code] = user.recoveryCodes;
      const res = await secondStep(t.app, {
        mfaToken: await passwordStep(t.app, user),
        recoveryCode: code.toUpperCase(),
      }).expect(200);
      expect(res.body.recoveryCodesRemaining).toBe(9);
      await secondStep(t.app, {
        mfaToken: await passwordStep(t.app, user),
        recoveryCode: code,
      }).expect(401);
    });

    it('needs exactly one of code and recoveryCode', async () => {
      const user = await enrolledUser(t.app);
      const mfaToken = await passwordStep(t.app, user);
      await secondStep(t.app, { mfaToken }).expect(400);
      await secondStep(t.app, {
        mfaToken,
        code: codeAt(user.secret, 1),
        recoveryCode: user.recoveryCodes[0],
      }).expect(400);
      await secondStep(t.app, { mfaToken, code: codeAt(user.secret, 1), extra: 1 }).expect(400);
    });
  });

  describe('attacks', () => {
    it('code replay: a code that finished one login does not finish another', async () => {
      const user = await enrolledUser(t.app);
      const code = codeAt(user.secret, 1);
      await secondStep(t.app, { mfaToken: await passwordStep(t.app, user), code }).expect(200);
      const replay = await secondStep(t.app, { mfaToken: await passwordStep(t.app, user), code });
      expect(replay.status).toBe(401);
      expect(replay.body.accessToken).toBeUndefined();
    });

    it('code replay: the code used to confirm enrolment does not finish a login', async () => {
      const user = await signupAndLogin(t.app);
      const start = await request(server)
        .post('/api/auth/mfa/totp')
        .set(user.auth)
        .send({ password: user.password })
        .expect(201);
      const code = codeAt(start.body.secret, 1);
      await request(server)
        .post('/api/auth/mfa/totp/confirm')
        .set(user.auth)
        .send({ code })
        .expect(200);
      await secondStep(t.app, { mfaToken: await passwordStep(t.app, user), code }).expect(401);
    });

    it('brute force over the code space is throttled after a handful of guesses', async () => {
      const user = await enrolledUser(t.app);
      const mfaToken = await passwordStep(t.app, user);
      const statuses: number[] = [];
      // Ten guesses of 10^6: the account limit (5 failures per client, the password check
      // included) stops them long before.
      for (let guess = 0; guess < 10 && !statuses.includes(429); guess++) {
        const code = wrongCode(user.secret).replace(/.$/, (d) => String((Number(d) + guess) % 10));
        statuses.push((await secondStep(t.app, { mfaToken, code })).status);
      }
      expect(statuses).toContain(429);
      expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
      // Locked for this client now: the right code, and a fresh password step, are refused too.
      await secondStep(t.app, { mfaToken, code: codeAt(user.secret, 1) }).expect(429);
      await request(server)
        .post('/api/auth/login')
        .send({ email: user.email, password: user.password })
        .expect(429);
      expect(await sessionCount(t.app, user.id)).toBe(1); // only the signup login
    });

    it('mfaToken reuse: a token that finished a login is refused afterwards', async () => {
      const user = await enrolledUser(t.app);
      const mfaToken = await passwordStep(t.app, user);
      await secondStep(t.app, { mfaToken, code: codeAt(user.secret, 1) }).expect(200);
      await secondStep(t.app, { mfaToken, recoveryCode: user.recoveryCodes[0] }).expect(401);
    });

    it('an expired mfaToken is refused', async () => {
      const user = await enrolledUser(t.app);
      const mfaToken = await passwordStep(t.app, user);
      await connectionOf(t.app)
        .collection('mfa_challenges')
        .updateMany(
          { user: new Types.ObjectId(user.id) },
          { $set: { expiresAt: new Date(Date.now() - 1000) } },
        );
      await secondStep(t.app, { mfaToken, code: codeAt(user.secret, 1) }).expect(401);
      await secondStep(t.app, { mfaToken: 'made-up-token', code: codeAt(user.secret, 1) }).expect(
        401,
      );
    });

    it("one account's mfaToken with another account's code or recovery code is refused", async () => {
      const victim = await enrolledUser(t.app);
      const attacker = await enrolledUser(t.app);
      const mfaToken = await passwordStep(t.app, victim);
      await secondStep(t.app, { mfaToken, code: codeAt(attacker.secret, 1) }).expect(401);
      await secondStep(t.app, { mfaToken, recoveryCode: attacker.recoveryCodes[0] }).expect(401);
      expect(await sessionCount(t.app, victim.id)).toBe(1);
    });

    it('a recovery code used twice at once finishes exactly one login', async () => {
      const user = await enrolledUser(t.app);
      const tokens = [await passwordStep(t.app, user), await passwordStep(t.app, user)];
      const [code] = user.recoveryCodes;
      const results = await Promise.all(
        tokens.map((mfaToken) => secondStep(t.app, { mfaToken, recoveryCode: code })),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
      expect(await sessionCount(t.app, user.id)).toBe(2);
    });

    it('the password step alone never yields a session or a usable token', async () => {
      const user = await enrolledUser(t.app);
      const res = await request(server)
        .post('/api/auth/login')
        .send({ email: user.email, password: user.password })
        .expect(200);
      expect(res.body.accessToken).toBeUndefined();
      expect(res.body.refreshToken).toBeUndefined();
      expect(await sessionCount(t.app, user.id)).toBe(1);
      await request(server)
        .get('/api/users/me')
        .set('Authorization', `Bearer ${res.body.mfaToken}`)
        .expect(401);
      await request(server)
        .post('/api/auth/refresh')
        .send({ refreshToken: res.body.mfaToken })
        .expect(401);
    });

    it('a wrong password never yields an mfaToken', async () => {
      const user = await enrolledUser(t.app);
      const res = await request(server)
        .post('/api/auth/login')
        .send({ email: user.email, password: 'wrong-password' })
        .expect(401);
      expect(res.body.mfaToken).toBeUndefined();
    });
  });

  describe('admin recovery', () => {
    const adminDelete = (id: string, actor: TestUser, body?: Record<string, unknown>) => {
      const req = request(server).delete(`/api/users/${id}/mfa`).set(actor.auth);
      return body === undefined ? req : req.send(body);
    };

    /** A new admin with their own second factor on (promoted by the configured admin). */
    const enrolledAdmin = async (): Promise<Enrolled> => {
      const admin = await enrolledUser(t.app);
      await fixtures(t.app).promote(admin);
      return admin;
    };

    it("turns a user's factor off and ends that user's sessions; admin views show it", async () => {
      const admin = await loginAdmin(t.app);
      const user = await enrolledUser(t.app);
      const view = await request(server).get(`/api/users/${user.id}`).set(admin.auth).expect(200);
      expect(view.body.mfaEnabled).toBe(true);
      const body = { password: TEST_ADMIN.password };
      await adminDelete(user.id, user, body).expect(403);
      await adminDelete(user.id, admin, body).expect(204);
      await request(server).get('/api/users/me').set(user.auth).expect(401);
      const after = await request(server).get(`/api/users/${user.id}`).set(admin.auth).expect(200);
      expect(after.body.mfaEnabled).toBe(false);
      const login = await request(server)
        .post('/api/auth/login')
        .send({ email: user.email, password: user.password })
        .expect(200);
      expect(login.body.accessToken).toEqual(expect.any(String));
      await adminDelete(user.id, admin, body).expect(404);
      await adminDelete('nope', admin, body).expect(400);
    });

    it("refuses the acting admin's own id (403) even with password and code: the factor stays on", async () => {
      const admin = await enrolledAdmin();
      const unchanged = await expectUnchangedAfter(t.app, ['mfa_factors', 'mfa_recovery_codes']);
      const own = await adminDelete(admin.id, admin, {
        password: admin.password,
        code: codeAt(admin.secret, 1),
      });
      expect(own.status).toBe(403);
      await adminDelete(admin.id, admin, { password: admin.password }).expect(403);
      // Without a body the body is the first thing wrong.
      await adminDelete(admin.id, admin).expect(400);
      await unchanged();
      await passwordStep(t.app, admin);
    });

    it("an access token alone (no body, or a wrong password) cannot reset another admin's factor", async () => {
      const actor = await fixtures(t.app).newAdmin();
      const other = await enrolledAdmin();
      const unchanged = await expectUnchangedAfter(t.app, [
        'mfa_factors',
        'mfa_recovery_codes',
        'sessions',
        'users',
      ]);
      await adminDelete(other.id, actor).expect(400);
      await adminDelete(other.id, actor, {}).expect(400);
      const wrong = await adminDelete(other.id, actor, { password: 'not-the-admin-password' });
      expect(wrong.status).toBe(400);
      await unchanged();
      // Still asks the other admin for a code at login.
      await passwordStep(t.app, other);
      // The wrong password counted like a failed login of the acting admin.
      const failures = await connectionOf(t.app)
        .collection('login_failures')
        .countDocuments({ email: actor.email });
      expect(failures).toBeGreaterThan(0);
      await adminDelete(other.id, actor, { password: actor.password }).expect(204);
      await request(server)
        .post('/api/auth/login')
        .send({ email: other.email, password: other.password })
        .expect(200)
        .expect((res) => expect(res.body.accessToken).toEqual(expect.any(String)));
    });

    it("needs the acting admin's own current code when that admin has a factor", async () => {
      const actor = await enrolledAdmin();
      const user = await enrolledUser(t.app);
      const unchanged = await expectUnchangedAfter(t.app, ['mfa_factors', 'mfa_recovery_codes']);
      await adminDelete(user.id, actor, { password: actor.password }).expect(400);
      await adminDelete(user.id, actor, {
        password: actor.password,
        code: wrongCode(actor.secret),
      }).expect(400);
      // The user's own code is not the admin's.
      await adminDelete(user.id, actor, {
        password: actor.password,
        code: codeAt(user.secret, 1),
      }).expect(400);
      await unchanged();
      await adminDelete(user.id, actor, {
        password: actor.password,
        code: codeAt(actor.secret, 1),
      }).expect(204);
      // That code was used up.
      const other = await enrolledUser(t.app);
      await adminDelete(other.id, actor, {
        password: actor.password,
        code: codeAt(actor.secret, 1),
      }).expect(400);
    });
  });
});

describe('security notices by mail', () => {
  let smtp: TestSmtpServer;
  let t: TestApp;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await createTestApp({
      label: 'mfa_mail',
      env: { SMTP_URL: smtp.url, PUBLIC_URL: 'https://app.guardhouse.test' },
    });
  });

  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const mailTo = async (address: string, subject: RegExp) => {
    await mailIdle(t.app);
    return smtp.inbox(address).filter((m) => subject.test(m.parsed.subject ?? ''));
  };

  it('mails the owner when the factor is turned on, a recovery code is used, and an admin turns it off', async () => {
    const user = await enrolledUser(t.app);
    expect(await mailTo(user.email, /two-step login turned on/)).toHaveLength(1);

    const mfaToken = await passwordStep(t.app, user);
    await secondStep(t.app, { mfaToken, recoveryCode: user.recoveryCodes[0] }).expect(200);
    const [used] = await mailTo(user.email, /a recovery code was used/);
    expect(used.parsed.text).toContain('9 of your recovery codes remain');
    // The notice names no code: neither the one used nor any other.
    for (const code of user.recoveryCodes) expect(used.parsed.text).not.toContain(code);

    const admin = await loginAdmin(t.app);
    await request(t.app.getHttpServer())
      .delete(`/api/users/${user.id}/mfa`)
      .set(admin.auth)
      .send({ password: TEST_ADMIN.password })
      .expect(204);
    const [off] = await mailTo(user.email, /two-step login turned off/);
    expect(off.parsed.text).toContain('An administrator turned off two-step login');
  });
});

describe('switched off', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      label: 'mfa_off',
      env: { MFA_ENABLED: 'false', SESSIONS_API_ENABLED: 'false' },
    });
  });

  afterAll(() => t.close());

  it('the second-factor and session-list routes answer 404', async () => {
    const user = await signupAndLogin(t.app);
    const server = t.app.getHttpServer();
    await request(server)
      .post('/api/auth/mfa/totp')
      .set(user.auth)
      .send({ password: user.password })
      .expect(404);
    await request(server)
      .post('/api/auth/login/mfa')
      .send({ mfaToken: 'x', code: '123456' })
      .expect(404);
    await request(server).get('/api/auth/sessions').set(user.auth).expect(404);
  });
});

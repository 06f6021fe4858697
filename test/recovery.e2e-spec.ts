import { jest } from '@jest/globals';
import { Types } from 'mongoose';
import request from 'supertest';

import { AccountTokensService } from '../src/auth/recovery/account-tokens.service.js';
import type { TestApp } from './support/app.js';
import { createTestApp, TEST_ADMIN } from './support/app.js';
import { connectionOf } from './support/db.js';
import type { TestSmtpServer } from './support/mail.js';
import { linkIn, mailIdle, startSmtpServer, tokenFromLatest } from './support/mail.js';
import { enrolledUser } from './support/mfa.js';
import type { TestUser } from './support/users.js';
import { login, loginAdmin, signupAndLogin, STRONG_PASSWORD } from './support/users.js';
import { pollUntil } from './support/wait.js';

const PUBLIC_URL = 'https://app.guardhouse.test';
const NEW_PASSWORD = 'another long passphrase 42';
const RESET = /reset your password/;
const VERIFY = /confirm your email address/;
const CONFIRM_CHANGE = /confirm your new email address/;

let counter = 0;
const fresh = (label: string) => `${label}-${Date.now().toString(36)}-${counter++}@example.com`;

const mailEnv = (smtp: TestSmtpServer, extra: Record<string, string> = {}) => ({
  SMTP_URL: smtp.url,
  PUBLIC_URL,
  MAIL_MAX_PER_IP: '100000',
  ...extra,
});

describe('account recovery and verified email', () => {
  let smtp: TestSmtpServer;
  let t: TestApp;
  let server: ReturnType<TestApp['app']['getHttpServer']>;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await createTestApp({ label: 'recovery', env: mailEnv(smtp) });
    server = t.app.getHttpServer();
  });

  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const subjects = (address: string) => smtp.inbox(address).map((m) => m.parsed.subject);

  const forgot = async (email: string) => {
    const res = await request(server).post('/api/auth/password/forgot').send({ email });
    await mailIdle(t.app);
    return res;
  };

  describe('password reset', () => {
    let user: TestUser;

    beforeAll(async () => {
      user = await signupAndLogin(t.app, { email: fresh('reset') });
    });

    it('mails a link to PUBLIC_URL whose token sets a new password, ends every session and notifies', async () => {
      const res = await forgot(user.email);
      expect(res.status).toBe(202);
      const mail = smtp.inbox(user.email).filter((m) => RESET.test(m.parsed.subject ?? ''))[0];
      const link = linkIn(mail);
      expect(`${link.origin}${link.pathname}`).toBe(`${PUBLIC_URL}/reset-password`);
      expect(mail.parsed.text).toContain('30 minutes');

      const reset = await request(server)
        .post('/api/auth/password/reset')
        .send({ token: link.searchParams.get('token'), newPassword: NEW_PASSWORD });
      expect(reset.status).toBe(204);
      await mailIdle(t.app);

      // Sessions from before are over: the access token and the refresh token.
      expect((await request(server).get('/api/users/me').set(user.auth)).status).toBe(401);
      const refresh = await request(server)
        .post('/api/auth/refresh')
        .send({ refreshToken: user.refreshToken });
      expect(refresh.status).toBe(401);
      const old = await request(server)
        .post('/api/auth/login')
        .send({ email: user.email, password: STRONG_PASSWORD });
      expect(old.status).toBe(401);
      const renewed = await login(t.app, user.email, NEW_PASSWORD);
      // The link went to the address: it counts as verified now.
      const me = await request(server).get('/api/users/me').set(renewed.auth);
      expect(me.body.emailVerified).toBe(true);
      expect(subjects(user.email)).toContain('Guardhouse: your password was reset');
      user = renewed;
    });

    it('stores tokens only as hashes', async () => {
      await forgot(user.email);
      const token = tokenFromLatest(smtp, user.email, RESET);
      const docs = await connectionOf(t.app)
        .collection('account_tokens')
        .find({ user: new Types.ObjectId(user.id) })
        .toArray();
      expect(docs.length).toBeGreaterThan(0);
      expect(JSON.stringify(docs)).not.toContain(token);
    });

    it('applies the password policy, and a refused password leaves the link usable', async () => {
      await forgot(user.email);
      const token = tokenFromLatest(smtp, user.email, RESET);
      const weak = await request(server)
        .post('/api/auth/password/reset')
        .send({ token, newPassword: 'password' });
      expect(weak.status).toBe(400);
      const ok = await request(server)
        .post('/api/auth/password/reset')
        .send({ token, newPassword: `${NEW_PASSWORD}!` });
      expect(ok.status).toBe(204);
      user = await login(t.app, user.email, `${NEW_PASSWORD}!`);
    });

    it('a disabled account gets no reset mail, and its owner was told it was disabled', async () => {
      const victim = await signupAndLogin(t.app, { email: fresh('disabled') });
      const admin = await loginAdmin(t.app);
      const disable = await request(server)
        .patch(`/api/users/${victim.id}`)
        .set(admin.auth)
        .send({ active: false });
      expect(disable.status).toBe(200);
      await mailIdle(t.app);
      expect(subjects(victim.email)).toContain('Guardhouse: your account was disabled');

      const res = await forgot(victim.email);
      expect(res.status).toBe(202);
      expect(subjects(victim.email).filter((s) => RESET.test(s ?? ''))).toEqual([]);
    });

    it('changing the password mails a notice', async () => {
      const res = await request(server)
        .patch('/api/auth/password')
        .set(user.auth)
        .send({ currentPassword: user.password, newPassword: 'third long passphrase 7' });
      expect(res.status).toBe(204);
      await mailIdle(t.app);
      expect(subjects(user.email)).toContain('Guardhouse: your password was changed');
    });
  });

  describe('email verification', () => {
    it('signup mails a link; using it verifies the address, which admin views show', async () => {
      const user = await signupAndLogin(t.app, { email: fresh('verify') });
      expect((await request(server).get('/api/users/me').set(user.auth)).body.emailVerified).toBe(
        false,
      );
      await mailIdle(t.app);
      const token = tokenFromLatest(smtp, user.email, VERIFY);

      expect((await request(server).post('/api/auth/email/verify').send({ token })).status).toBe(
        204,
      );
      const admin = await loginAdmin(t.app);
      const view = await request(server).get(`/api/users/${user.id}`).set(admin.auth);
      expect(view.body.emailVerified).toBe(true);
      const list = await request(server).get('/api/users').set(admin.auth);
      expect(
        list.body.items.every(
          (u: { emailVerified?: unknown }) => typeof u.emailVerified === 'boolean',
        ),
      ).toBe(true);
    });

    it('the configured admin counts as verified', async () => {
      const admin = await loginAdmin(t.app);
      const me = await request(server).get('/api/users/me').set(admin.auth);
      expect(me.body.emailVerified).toBe(true);
    });

    it('resend mails a new link that supersedes the first', async () => {
      const user = await signupAndLogin(t.app, { email: fresh('resend') });
      await mailIdle(t.app);
      const first = tokenFromLatest(smtp, user.email, VERIFY);
      const res = await request(server).post('/api/auth/email/resend').set(user.auth);
      expect(res.status).toBe(202);
      await mailIdle(t.app);
      const second = tokenFromLatest(smtp, user.email, VERIFY);
      expect(second).not.toBe(first);

      const stale = await request(server).post('/api/auth/email/verify').send({ token: first });
      expect(stale.status).toBe(400);
      const ok = await request(server).post('/api/auth/email/verify').send({ token: second });
      expect(ok.status).toBe(204);
    });
  });

  describe('email change', () => {
    it('confirms from the new address, tells the old one, and changes only on confirmation', async () => {
      const user = await signupAndLogin(t.app, { email: fresh('change-old') });
      const newEmail = fresh('change-new');

      const wrong = await request(server)
        .post('/api/users/me/email')
        .set(user.auth)
        .send({ newEmail, currentPassword: 'not-my-password' });
      expect(wrong.status).toBe(400);

      const res = await request(server)
        .post('/api/users/me/email')
        .set(user.auth)
        .send({ newEmail, currentPassword: user.password });
      expect(res.status).toBe(202);
      await mailIdle(t.app);
      expect(subjects(user.email)).toContain('Guardhouse: email change requested');
      // Not changed yet.
      expect((await request(server).get('/api/users/me').set(user.auth)).body.email).toBe(
        user.email,
      );

      const token = tokenFromLatest(smtp, newEmail, CONFIRM_CHANGE);
      const confirm = await request(server).post('/api/auth/email/change/confirm').send({ token });
      expect(confirm.status).toBe(204);
      await mailIdle(t.app);

      const me = await request(server).get('/api/users/me').set(user.auth);
      expect(me.body).toMatchObject({ email: newEmail, emailVerified: true });
      expect(subjects(user.email)).toContain('Guardhouse: your email address was changed');
      await login(t.app, newEmail, user.password);
    });

    it('a taken address gets the same 202 as a free one (its owner a notice, no link), and 409 at confirmation', async () => {
      const user = await signupAndLogin(t.app, { email: fresh('taken-a') });
      const other = await signupAndLogin(t.app, { email: fresh('taken-b') });
      await mailIdle(t.app);
      const before = {
        requester: smtp.inbox(user.email).length,
        owner: smtp.inbox(other.email).length,
      };
      const now = await request(server)
        .post('/api/users/me/email')
        .set(user.auth)
        .send({ newEmail: other.email, currentPassword: user.password });
      const free = await request(server)
        .post('/api/users/me/email')
        .set(user.auth)
        .send({ newEmail: fresh('taken-free'), currentPassword: user.password });
      // One status, one body: the answer does not tell whether the address is registered.
      expect(now.status).toBe(202);
      expect(now.body).toEqual(free.body);
      await mailIdle(t.app);
      // The address's owner is told it was asked for; no link to take it over.
      const toOwner = smtp.inbox(other.email).slice(before.owner);
      expect(toOwner.map((m) => m.parsed.subject)).toEqual([
        'Guardhouse: this address is already in use',
      ]);
      expect(toOwner[0].parsed.text).not.toMatch(/token=/);
      // The requester's own address hears of both requests alike.
      expect(
        smtp
          .inbox(user.email)
          .slice(before.requester)
          .map((m) => m.parsed.subject),
      ).toEqual(['Guardhouse: email change requested', 'Guardhouse: email change requested']);
      expect((await request(server).get('/api/users/me').set(user.auth)).body.email).toBe(
        user.email,
      );

      const wanted = fresh('taken-later');
      await request(server)
        .post('/api/users/me/email')
        .set(user.auth)
        .send({ newEmail: wanted, currentPassword: user.password })
        .expect(202);
      await mailIdle(t.app);
      const token = tokenFromLatest(smtp, wanted, CONFIRM_CHANGE);
      // Someone registers the address before the link is used.
      await signupAndLogin(t.app, { email: wanted });
      const late = await request(server).post('/api/auth/email/change/confirm').send({ token });
      expect(late.status).toBe(409);
      expect((await request(server).get('/api/users/me').set(user.auth)).body.email).toBe(
        user.email,
      );
    });
  });
});

describe('pending links end with every "end all my sessions" and every password change', () => {
  const INVALID = 'This link is invalid or has expired; ask for a new one';
  let smtp: TestSmtpServer;
  let t: TestApp;
  let server: ReturnType<TestApp['app']['getHttpServer']>;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await createTestApp({ label: 'recovery_links_end', env: mailEnv(smtp) });
    server = t.app.getHttpServer();
  });

  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  /** A pending email change of `user` to a fresh address: the confirmation link's token. */
  async function pendingChange(user: TestUser): Promise<{ token: string; newEmail: string }> {
    const newEmail = fresh('pending-new');
    await request(server)
      .post('/api/users/me/email')
      .set(user.auth)
      .send({ newEmail, currentPassword: user.password })
      .expect(202);
    await mailIdle(t.app);
    return { token: tokenFromLatest(smtp, newEmail, CONFIRM_CHANGE), newEmail };
  }

  const confirmChange = (token: string) =>
    request(server).post('/api/auth/email/change/confirm').send({ token });

  async function expectAddress(email: string, password: string): Promise<void> {
    const again = await login(t.app, email, password);
    expect((await request(server).get('/api/users/me').set(again.auth)).body.email).toBe(email);
  }

  it('logout-all ends a pending email-change link: 400, the address unchanged', async () => {
    const user = await signupAndLogin(t.app, { email: fresh('links-logout-all') });
    const { token } = await pendingChange(user);
    await request(server).post('/api/auth/logout-all').set(user.auth).expect(204);
    const res = await confirmChange(token);
    expect(res.status).toBe(400);
    expect(res.body.message).toBe(INVALID);
    await expectAddress(user.email, user.password);
  });

  it('logout-all ends a pending verification link: 400, still unverified', async () => {
    const user = await signupAndLogin(t.app, { email: fresh('links-verify') });
    await mailIdle(t.app);
    const token = tokenFromLatest(smtp, user.email, VERIFY);
    await request(server).post('/api/auth/logout-all').set(user.auth).expect(204);
    const res = await request(server).post('/api/auth/email/verify').send({ token });
    expect(res.status).toBe(400);
    const again = await login(t.app, user.email, user.password);
    expect((await request(server).get('/api/users/me').set(again.auth)).body.emailVerified).toBe(
      false,
    );
  });

  it("an admin's second-factor reset (which ends every session) ends a pending email-change link", async () => {
    const user = await enrolledUser(t.app);
    const { token } = await pendingChange(user);
    const admin = await loginAdmin(t.app);
    await request(server)
      .delete(`/api/users/${user.id}/mfa`)
      .set(admin.auth)
      .send({ password: TEST_ADMIN.password })
      .expect(204);
    expect((await confirmChange(token)).status).toBe(400);
  });

  it('a password change ends a pending email-change link', async () => {
    const user = await signupAndLogin(t.app, { email: fresh('links-change') });
    const { token } = await pendingChange(user);
    await request(server)
      .patch('/api/auth/password')
      .set(user.auth)
      .send({ currentPassword: user.password, newPassword: NEW_PASSWORD })
      .expect(204);
    expect((await confirmChange(token)).status).toBe(400);
    await expectAddress(user.email, NEW_PASSWORD);
  });

  it('a reset ends a pending email-change link', async () => {
    const user = await signupAndLogin(t.app, { email: fresh('links-reset') });
    const { token } = await pendingChange(user);
    await request(server).post('/api/auth/password/forgot').send({ email: user.email }).expect(202);
    await mailIdle(t.app);
    const reset = tokenFromLatest(smtp, user.email, RESET);
    await request(server)
      .post('/api/auth/password/reset')
      .send({ token: reset, newPassword: NEW_PASSWORD })
      .expect(204);
    expect((await confirmChange(token)).status).toBe(400);
    await expectAddress(user.email, NEW_PASSWORD);
  });

  it('a link whose request checked the password before a change, mailed after it, is dead', async () => {
    const user = await signupAndLogin(t.app, { email: fresh('links-race') });
    // The confirmation link is issued after the response (a deferred job): hold that job until
    // the password has changed, so the link is written after the change ended every link.
    const tokens = t.app.get(AccountTokensService, { strict: false });
    const issue = tokens.issue.bind(tokens);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let held = 0;
    const spy = jest
      .spyOn(tokens, 'issue')
      .mockImplementation(async (...args: Parameters<AccountTokensService['issue']>) => {
        held++;
        await gate;
        return issue(...args);
      });
    const newEmail = fresh('links-race-new');
    try {
      await request(server)
        .post('/api/users/me/email')
        .set(user.auth)
        .send({ newEmail, currentPassword: user.password })
        .expect(202);
      await pollUntil(
        () => Promise.resolve(held),
        (n) => n === 1,
      );
      await request(server)
        .patch('/api/auth/password')
        .set(user.auth)
        .send({ currentPassword: user.password, newPassword: NEW_PASSWORD })
        .expect(204);
      release();
      await mailIdle(t.app);
    } finally {
      release();
      spy.mockRestore();
    }
    // The link was written (under the password its request checked) and mailed after the
    // change: it is refused.
    const links = smtp.inbox(newEmail).filter((m) => CONFIRM_CHANGE.test(m.parsed.subject ?? ''));
    expect(links).toHaveLength(1);
    const token = linkIn(links[0]).searchParams.get('token') ?? '';
    expect((await confirmChange(token)).status).toBe(400);
    await expectAddress(user.email, NEW_PASSWORD);
  });
});

describe('REQUIRE_VERIFIED_EMAIL=true', () => {
  let smtp: TestSmtpServer;
  let t: TestApp;
  let server: ReturnType<TestApp['app']['getHttpServer']>;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await createTestApp({
      label: 'recovery_required',
      env: mailEnv(smtp, { REQUIRE_VERIFIED_EMAIL: 'true' }),
    });
    server = t.app.getHttpServer();
  });

  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const signup = (email: string) =>
    request(server)
      .post('/api/auth/signup')
      .send({ email, password: STRONG_PASSWORD, name: 'Unverified' });

  it('signup answers 202 with one body for a new and a taken address; the owner is told', async () => {
    const email = fresh('required');
    const first = await signup(email);
    const again = await signup(email);
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    await mailIdle(t.app);
    expect(smtp.inbox(email).map((m) => m.parsed.subject)).toEqual([
      'Guardhouse: confirm your email address',
      'Guardhouse: someone tried to sign up with your address',
    ]);
    expect(smtp.inbox(email)[1].parsed.text).not.toMatch(/token=/);
  });

  it('an unverified account gets 403 except on /users/me and the auth routes, until it verifies', async () => {
    const email = fresh('gate');
    await signup(email).expect(202);
    const user = await login(t.app, email, STRONG_PASSWORD);

    const todos = await request(server).get('/api/todos').set(user.auth);
    expect(todos.status).toBe(403);
    expect(todos.body.message).toMatch(/Verify your email address/);
    expect((await request(server).get('/api/users/me').set(user.auth)).status).toBe(200);
    expect((await request(server).post('/api/auth/email/resend').set(user.auth)).status).toBe(202);
    expect((await request(server).get('/api/health')).status).toBe(200);

    await mailIdle(t.app);
    const token = tokenFromLatest(smtp, email, VERIFY);
    await request(server).post('/api/auth/email/verify').send({ token }).expect(204);
    expect((await request(server).get('/api/todos').set(user.auth)).status).toBe(200);
  });

  it('the configured admin is verified and passes', async () => {
    const admin = await loginAdmin(t.app);
    expect((await request(server).get('/api/users').set(admin.auth)).status).toBe(200);
  });
});

import { jest } from '@jest/globals';
import { Types } from 'mongoose';
import request from 'supertest';

import { UsersService } from '../../src/auth/accounts/users.service.js';
import type { TestApp } from '../support/app.js';
import { createTestApp } from '../support/app.js';
import { connectionOf, expectUnchangedAfter } from '../support/db.js';
import type { TestSmtpServer } from '../support/mail.js';
import { linkIn, mailIdle, startSmtpServer, tokenFromLatest } from '../support/mail.js';
import type { TestUser } from '../support/users.js';
import { login, signupAndLogin } from '../support/users.js';

const PUBLIC_URL = 'https://app.guardhouse.test';
const NEW_PASSWORD = 'a brand new passphrase 9';
const RESET = /reset your password/;
const VERIFY = /confirm your email address/;
const INVALID = 'This link is invalid or has expired; ask for a new one';
const PER_ADDRESS = 3;

let counter = 0;
const fresh = (label: string) => `${label}-${Date.now().toString(36)}-${counter++}@example.com`;

describe('attacks on account recovery', () => {
  let smtp: TestSmtpServer;
  let t: TestApp;
  let server: ReturnType<TestApp['app']['getHttpServer']>;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await createTestApp({
      label: 'sec_recovery',
      env: {
        SMTP_URL: smtp.url,
        PUBLIC_URL,
        MAIL_MAX_PER_ADDRESS: '100000',
        MAIL_MAX_PER_IP: '100000',
      },
    });
    server = t.app.getHttpServer();
  });

  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const forgot = async (email: string, headers: Record<string, string> = {}) => {
    const res = await request(server)
      .post('/api/auth/password/forgot')
      .set(headers)
      .send({ email });
    await mailIdle(t.app);
    return res;
  };
  const resetToken = async (user: TestUser) => {
    await forgot(user.email);
    return tokenFromLatest(smtp, user.email, RESET);
  };
  const reset = (token: string, newPassword = NEW_PASSWORD) =>
    request(server).post('/api/auth/password/reset').send({ token, newPassword });
  const expectInvalid = (res: request.Response) => {
    expect(res.status).toBe(400);
    expect(res.body.message).toBe(INVALID);
  };

  describe('enumeration', () => {
    it('a known and an unknown address get the same status, body and headers', async () => {
      const user = await signupAndLogin(t.app, { email: fresh('enum') });
      const known = await forgot(user.email);
      const unknown = await forgot(fresh('nobody'));
      expect(known.status).toBe(202);
      expect(unknown.status).toBe(202);
      expect(unknown.body).toEqual(known.body);
      const varying = new Set([
        'date',
        'x-request-id',
        'x-ratelimit-remaining',
        'x-ratelimit-reset',
      ]);
      const names = (res: request.Response) =>
        Object.keys(res.headers)
          .filter((name) => !varying.has(name))
          .sort();
      expect(names(unknown)).toEqual(names(known));
      expect(smtp.inbox(user.email).filter((m) => RESET.test(m.parsed.subject ?? ''))).toHaveLength(
        1,
      );
    });

    it('answers before the account is even looked up, for a known and an unknown address alike', async () => {
      // The time of the answer cannot depend on the account when the answer is sent while the
      // account lookup is still held: the lookup is blocked until both answers are in.
      const user = await signupAndLogin(t.app, { email: fresh('timing') });
      const users = t.app.get(UsersService, { strict: false });
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const original = users.findByEmail.bind(users);
      const lookups: string[] = [];
      const spy = jest.spyOn(users, 'findByEmail').mockImplementation(async (email) => {
        lookups.push(email);
        await gate;
        return original(email);
      });
      try {
        const unknownEmail = fresh('timing-nobody');
        const known = await request(server)
          .post('/api/auth/password/forgot')
          .send({ email: user.email });
        const unknown = await request(server)
          .post('/api/auth/password/forgot')
          .send({ email: unknownEmail });
        expect([known.status, unknown.status]).toEqual([202, 202]);
        release();
        await mailIdle(t.app);
        // Both lookups happened, after the answers.
        expect(lookups.sort()).toEqual([user.email, unknownEmail].sort());
      } finally {
        release();
        spy.mockRestore();
      }
    });
  });

  it('token reuse: a used link is refused with the generic message', async () => {
    const user = await signupAndLogin(t.app, { email: fresh('reuse') });
    const token = await resetToken(user);
    expect((await reset(token)).status).toBe(204);
    expectInvalid(await reset(token, 'yet another passphrase 1'));
    await login(t.app, user.email, NEW_PASSWORD);
  });

  it('concurrent use: one token presented five times at once succeeds exactly once', async () => {
    const user = await signupAndLogin(t.app, { email: fresh('race') });
    const token = await resetToken(user);
    const answers = await Promise.all(
      Array.from({ length: 5 }, (_, i) => reset(token, `${NEW_PASSWORD} ${i}`)),
    );
    const statuses = answers.map((res) => res.status).sort();
    expect(statuses).toEqual([204, 400, 400, 400, 400]);
    const winner = answers.findIndex((res) => res.status === 204);
    await login(t.app, user.email, `${NEW_PASSWORD} ${winner}`);
  });

  it('expiry: a token past its 30 minutes is refused', async () => {
    const user = await signupAndLogin(t.app, { email: fresh('expired') });
    const token = await resetToken(user);
    const stored = await connectionOf(t.app)
      .collection('account_tokens')
      .findOne({ user: new Types.ObjectId(user.id), purpose: 'password-reset' });
    expect(stored!.expiresAt.getTime() - stored!.createdAt.getTime()).toBe(30 * 60_000);
    await connectionOf(t.app)
      .collection('account_tokens')
      .updateMany(
        { user: new Types.ObjectId(user.id) },
        { $set: { expiresAt: new Date(Date.now() - 1000) } },
      );
    expectInvalid(await reset(token));
    await login(t.app, user.email, user.password);
  });

  it('a newer request supersedes the older link', async () => {
    const user = await signupAndLogin(t.app, { email: fresh('supersede') });
    const older = await resetToken(user);
    const newer = await resetToken(user);
    expectInvalid(await reset(older));
    expect((await reset(newer)).status).toBe(204);
  });

  it("one account's token never acts on another, nor serves another purpose", async () => {
    const alice = await signupAndLogin(t.app, { email: fresh('alice') });
    const bob = await signupAndLogin(t.app, { email: fresh('bob') });
    await mailIdle(t.app);
    // A verification token is no reset token, and the other way round.
    const aliceVerify = tokenFromLatest(smtp, alice.email, VERIFY);
    expectInvalid(await reset(aliceVerify));
    const aliceReset = await resetToken(alice);
    expectInvalid(await request(server).post('/api/auth/email/verify').send({ token: aliceReset }));
    expectInvalid(
      await request(server).post('/api/auth/email/change/confirm').send({ token: aliceReset }),
    );
    // Alice's reset token changes Alice's password, never Bob's.
    expect((await reset(aliceReset)).status).toBe(204);
    await login(t.app, alice.email, NEW_PASSWORD);
    await login(t.app, bob.email, bob.password);
  });

  it('a reset link is dead once the password changed another way', async () => {
    const user = await signupAndLogin(t.app, { email: fresh('changed') });
    const token = await resetToken(user);
    await request(server)
      .patch('/api/auth/password')
      .set(user.auth)
      .send({ currentPassword: user.password, newPassword: 'changed by the owner 5' })
      .expect(204);
    expectInvalid(await reset(token));
    await login(t.app, user.email, 'changed by the owner 5');
  });

  it('host-header poisoning: links always use PUBLIC_URL, never the Host or X-Forwarded-* headers', async () => {
    const user = await signupAndLogin(t.app, { email: fresh('host') });
    await forgot(user.email, {
      Host: 'evil.example',
      'X-Forwarded-Host': 'evil.example',
      'X-Forwarded-Proto': 'http',
      Forwarded: 'host=evil.example;proto=http',
    });
    const mail = smtp.inbox(user.email).filter((m) => RESET.test(m.parsed.subject ?? ''))[0];
    expect(linkIn(mail).origin).toBe(PUBLIC_URL);
    expect(mail.raw).not.toContain('evil.example');
  });

  it('garbage tokens are the same generic 400 and change nothing', async () => {
    const unchanged = await expectUnchangedAfter(t.app, [
      'users',
      'sessions',
      'account_token_uses',
    ]);
    for (const token of ['x', 'A'.repeat(43), '../../etc/passwd', 'A'.repeat(256)]) {
      expectInvalid(await reset(token));
    }
    await unchanged();
  });
});

describe('mail flooding', () => {
  let smtp: TestSmtpServer;
  let t: TestApp;
  let server: ReturnType<TestApp['app']['getHttpServer']>;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await createTestApp({
      label: 'sec_recovery_flood',
      env: {
        SMTP_URL: smtp.url,
        PUBLIC_URL,
        MAIL_MAX_PER_ADDRESS: String(PER_ADDRESS),
        MAIL_MAX_PER_IP: '100000',
      },
    });
    server = t.app.getHttpServer();
  });

  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const forgot = async (email: string) => {
    const res = await request(server).post('/api/auth/password/forgot').send({ email });
    await mailIdle(t.app);
    return res;
  };

  it('one address gets at most MAIL_MAX_PER_ADDRESS messages per window, known or not', async () => {
    const user = await signupAndLogin(t.app, { email: fresh('flood') });
    const unknown = fresh('flood-nobody');
    for (const email of [user.email, unknown]) {
      const statuses: number[] = [];
      for (let i = 0; i < PER_ADDRESS + 3; i++) statuses.push((await forgot(email)).status);
      expect(statuses).toEqual([
        ...Array<number>(PER_ADDRESS).fill(202),
        ...Array<number>(3).fill(429),
      ]);
    }
    const refused = await forgot(user.email);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(smtp.inbox(user.email).filter((m) => RESET.test(m.parsed.subject ?? ''))).toHaveLength(
      PER_ADDRESS,
    );
  });

  it("through email change: a stranger's address gets at most the limit", async () => {
    const target = fresh('stranger');
    const statuses: number[] = [];
    for (let i = 0; i < PER_ADDRESS + 1; i++) {
      const attacker = await signupAndLogin(t.app, { email: fresh('attacker') });
      const res = await request(server)
        .post('/api/users/me/email')
        .set(attacker.auth)
        .send({ newEmail: target, currentPassword: attacker.password });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([...Array<number>(PER_ADDRESS).fill(202), 429]);
    await mailIdle(t.app);
    expect(smtp.inbox(target)).toHaveLength(PER_ADDRESS);
  });
});

describe('per-IP limit on recovery requests', () => {
  let smtp: TestSmtpServer;
  let t: TestApp;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await createTestApp({
      label: 'sec_recovery_ip',
      env: { SMTP_URL: smtp.url, PUBLIC_URL, MAIL_MAX_PER_IP: '4' },
    });
  });

  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  it('one client guessing tokens or asking for mail to many addresses gets 429', async () => {
    const server = t.app.getHttpServer();
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await request(server)
        .post('/api/auth/password/reset')
        .send({ token: 'B'.repeat(43), newPassword: NEW_PASSWORD });
      statuses.push(res.status);
    }
    for (let i = 0; i < 2; i++) {
      const res = await request(server)
        .post('/api/auth/password/forgot')
        .send({ email: fresh('spray') });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([400, 400, 400, 202, 429]);
  });
});

describe('email change: counted per client and per address before the address is looked up', () => {
  const PER_IP = 4;
  let smtp: TestSmtpServer;
  let t: TestApp;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await createTestApp({
      label: 'sec_recovery_email_change',
      env: { SMTP_URL: smtp.url, PUBLIC_URL, TRUST_PROXY: '127.0.0.1', MAIL_MAX_PER_IP: '4' },
    });
  });

  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  it('one client probing addresses gets one answer for taken and free ones, then 429', async () => {
    const server = t.app.getHttpServer();
    const prober = await signupAndLogin(t.app, { email: fresh('prober') });
    const taken = await Promise.all(
      Array.from({ length: PER_IP }, (_, i) =>
        signupAndLogin(t.app, { email: fresh(`taken${i}`) }),
      ),
    );
    const targets = [taken[0].email, taken[1].email, fresh('free'), taken[2].email, taken[3].email];
    const answers: request.Response[] = [];
    for (const newEmail of targets) {
      answers.push(
        await request(server)
          .post('/api/users/me/email')
          .set(prober.auth)
          .set('X-Forwarded-For', '203.0.113.99')
          .send({ newEmail, currentPassword: prober.password }),
      );
    }
    expect(answers.map((res) => res.status)).toEqual([202, 202, 202, 202, 429]);
    expect(new Set(answers.slice(0, PER_IP).map((res) => JSON.stringify(res.body))).size).toBe(1);
    expect(Number(answers[PER_IP].headers['retry-after'])).toBeGreaterThan(0);
  });
});

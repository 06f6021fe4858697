import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { jest } from '@jest/globals';
import { Types } from 'mongoose';
import type { Response } from 'supertest';
import request from 'supertest';

import { SessionsService } from '../../src/auth/sessions/sessions.service.js';
import type { TestApp } from '../support/app.js';
import { createTestApp } from '../support/app.js';
import { connectionOf } from '../support/db.js';
import type { TestSmtpServer } from '../support/mail.js';
import { mailIdle, startSmtpServer, tokenFromLatest } from '../support/mail.js';
import { enrolledUser } from '../support/mfa.js';
import type { TestUser } from '../support/users.js';
import { login, signupAndLogin } from '../support/users.js';
import { pollUntil } from '../support/wait.js';

/**
 * A login (or the second step of one) that checked the old password before a password change or
 * reset, and opens its session after the change ended every session, must not keep that session:
 * every session is bound to the credential it was opened with. Each test lets logins with the old
 * password race one change, collects every token pair that came back, and expects each access
 * token refused on this instance at once and on a second instance (same database) within the
 * session cache TTL, and each refresh token refused on both.
 */
const CACHE_TTL_MS = 1000;
/** Scheduling slack on a loaded 2-core machine, on top of the cache TTL. */
const REVOCATION_DEADLINE_MS = CACHE_TTL_MS + 4000;
const LOGINS = 8;
const PUBLIC_URL = 'https://app.guardhouse.test';

let ipCounter = 0;
/** A distinct documentation-range client (RFC 5737) per call: no per-client limit interferes. */
const nextIp = () => `192.0.2.${(ipCounter++ % 250) + 1}`;

interface TokenPair {
  accessToken: string;
  refreshToken: string;
}

/** Figures for the report (reports/ is git-ignored). */
function record(line: string): void {
  const dir = join(process.cwd(), 'reports');
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, 'credential-races.txt'), `${new Date().toISOString()} ${line}\n`);
}

describe('logins racing a password change or reset', () => {
  let smtp: TestSmtpServer;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    const env = {
      TRUST_PROXY: '127.0.0.1',
      SESSION_CACHE_TTL_MS: String(CACHE_TTL_MS),
      SMTP_URL: smtp.url,
      PUBLIC_URL,
      MAIL_MAX_PER_IP: '100000',
      // The burst's old-password logins after the change are failures; the account-wide slowdown
      // they would trigger is not under test here (it would refuse the owner's check login).
      LOGIN_ACCOUNT_SLOWDOWN_AFTER: '100000',
    };
    a = await createTestApp({ label: 'sec_credential_races', env });
    b = await createTestApp({ mongoUri: a.mongoUri, env });
  });

  afterAll(async () => {
    await b.close();
    await a.close();
    await smtp.close();
  });

  /** Sends now (supertest starts a request only once it is awaited or `then` is called). */
  const started = (test: request.Test): Promise<Response> => test.then((res) => res);

  const passwordLogin = (app: TestApp, email: string, password: string) =>
    started(
      request(app.app.getHttpServer())
        .post('/api/auth/login')
        .set('X-Forwarded-For', nextIp())
        .send({ email, password }),
    );

  const changeRequest = (user: TestUser, newPassword: string) =>
    request(a.app.getHttpServer())
      .patch('/api/auth/password')
      .set(user.auth)
      .set('X-Forwarded-For', nextIp())
      .send({ currentPassword: user.password, newPassword });

  const changePassword = (user: TestUser, newPassword: string) =>
    changeRequest(user, newPassword).expect(204);

  /**
   * Holds every session creation on instance a until released: a login that passed its password
   * check waits there, exactly in the window between the check and its new session.
   */
  function holdSessionCreation() {
    const sessions = a.app.get(SessionsService, { strict: false });
    const create = sessions.create.bind(sessions);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let arrived = 0;
    const spy = jest
      .spyOn(sessions, 'create')
      .mockImplementation(async (...args: Parameters<SessionsService['create']>) => {
        arrived++;
        await gate;
        return create(...args);
      });
    return {
      whenArrived: async (count: number) => {
        await pollUntil(
          () => Promise.resolve(arrived),
          (n) => n >= count,
          { timeoutMs: 20_000 },
        );
        expect(arrived).toBe(count);
      },
      release: () => release(),
      restore: () => {
        release();
        spy.mockRestore();
      },
    };
  }

  const tokensOf = (answers: Response[]): TokenPair[] =>
    answers
      .filter((res) => res.status === 200 && typeof res.body.accessToken === 'string')
      .map((res) => ({ accessToken: res.body.accessToken, refreshToken: res.body.refreshToken }));

  /**
   * Every way each pair could still be used, described; empty when all are refused. Access
   * tokens: on a at once, on b within the cache TTL (polled, no timed assertion). Refresh tokens:
   * half on a, half on b (a refused refresh may end the session, so each is presented once).
   */
  async function stillAlive(pairs: TokenPair[]): Promise<string[]> {
    const alive: string[] = [];
    for (const [i, pair] of pairs.entries()) {
      const me = (app: TestApp) =>
        request(app.app.getHttpServer())
          .get('/api/users/me')
          .set('Authorization', `Bearer ${pair.accessToken}`);
      const here = await me(a);
      if (here.status !== 401) alive.push(`access token ${i} on this instance: ${here.status}`);
      const there = await pollUntil(
        () => me(b).then((res) => res),
        (res) => res.status === 401,
        { timeoutMs: REVOCATION_DEADLINE_MS, intervalMs: 100 },
      );
      if (there.status !== 401)
        alive.push(`access token ${i} on another instance: ${there.status}`);
      const refreshed = await request((i % 2 ? a : b).app.getHttpServer())
        .post('/api/auth/refresh')
        .set('X-Forwarded-For', nextIp())
        .send({ refreshToken: pair.refreshToken });
      if (refreshed.status !== 401) alive.push(`refresh token ${i}: ${refreshed.status}`);
    }
    return alive;
  }

  /** The account's session list, as its owner (logged in with the new password) sees it. */
  async function listedSessions(email: string, password: string): Promise<number> {
    const owner = await login(a.app, email, password);
    const list = await request(a.app.getHttpServer())
      .get('/api/auth/sessions')
      .set(owner.auth)
      .expect(200);
    return list.body.total as number;
  }

  it(`${LOGINS} old-password logins held between their password check and their session, across PATCH /auth/password: every token refused`, async () => {
    const user = await signupAndLogin(a.app);
    const hold = holdSessionCreation();
    let answers: Response[];
    try {
      const logins = Array.from({ length: LOGINS }, () =>
        passwordLogin(a, user.email, user.password),
      );
      await hold.whenArrived(LOGINS);
      await changePassword(user, 'changed while they waited 1');
      hold.release();
      answers = await Promise.all(logins);
    } finally {
      hold.restore();
    }
    const pairs = tokensOf(answers);
    const alive = await stillAlive(pairs);
    record(
      `password change, held: ${LOGINS} sent, ${pairs.length} got tokens, ${alive.length} alive`,
    );
    // Every login passed its password check before the change: each got a token pair…
    expect(pairs).toHaveLength(LOGINS);
    // …and none of them works after it.
    expect(alive).toEqual([]);
    // Nor do their sessions show in the list: only the login with the new password.
    expect(await listedSessions(user.email, 'changed while they waited 1')).toBe(1);
  });

  it(`${LOGINS} old-password logins held across a mailed password reset: every token refused`, async () => {
    const user = await signupAndLogin(a.app);
    await request(a.app.getHttpServer())
      .post('/api/auth/password/forgot')
      .set('X-Forwarded-For', nextIp())
      .send({ email: user.email })
      .expect(202);
    await mailIdle(a.app);
    const token = tokenFromLatest(smtp, user.email, /reset your password/);
    const hold = holdSessionCreation();
    let answers: Response[];
    try {
      const logins = Array.from({ length: LOGINS }, () =>
        passwordLogin(a, user.email, user.password),
      );
      await hold.whenArrived(LOGINS);
      await request(a.app.getHttpServer())
        .post('/api/auth/password/reset')
        .set('X-Forwarded-For', nextIp())
        .send({ token, newPassword: 'reset while they waited 2' })
        .expect(204);
      hold.release();
      answers = await Promise.all(logins);
    } finally {
      hold.restore();
    }
    const pairs = tokensOf(answers);
    const alive = await stillAlive(pairs);
    record(
      `password reset, held: ${LOGINS} sent, ${pairs.length} got tokens, ${alive.length} alive`,
    );
    expect(pairs).toHaveLength(LOGINS);
    expect(alive).toEqual([]);
    expect(await listedSessions(user.email, 'reset while they waited 2')).toBe(1);
  });

  it('second steps (recovery codes) held before their session, across PATCH /auth/password: every token refused', async () => {
    const user = await enrolledUser(a.app);
    const steps = 4;
    const mfaTokens: string[] = [];
    for (let i = 0; i < steps; i++) {
      const res = await passwordLogin(a, user.email, user.password);
      expect(res.status).toBe(200);
      mfaTokens.push(res.body.mfaToken as string);
    }
    const hold = holdSessionCreation();
    let answers: Response[];
    try {
      const finishes = mfaTokens.map((mfaToken, i) =>
        started(
          request(a.app.getHttpServer())
            .post('/api/auth/login/mfa')
            .set('X-Forwarded-For', nextIp())
            .send({ mfaToken, recoveryCode: user.recoveryCodes[i] }),
        ),
      );
      await hold.whenArrived(steps);
      await changePassword(user, 'changed during the second step 3');
      hold.release();
      answers = await Promise.all(finishes);
    } finally {
      hold.restore();
    }
    const pairs = tokensOf(answers);
    const alive = await stillAlive(pairs);
    record(`second step, held: ${steps} sent, ${pairs.length} got tokens, ${alive.length} alive`);
    expect(pairs).toHaveLength(steps);
    expect(alive).toEqual([]);
  });

  it('a burst of old-password logins sent before, during and after one PATCH /auth/password, unheld: whatever got tokens is refused', async () => {
    const user = await signupAndLogin(a.app);
    const logins: Promise<Response>[] = [];
    let changed = false;
    let change: Promise<unknown> = Promise.resolve();
    // Logins every 40 ms, to both instances; the change goes out after the eighth, and the burst
    // goes on until the change is answered.
    while (!changed && logins.length < 150) {
      if (logins.length === 8) {
        change = started(changeRequest(user, 'changed mid-burst 4')).then((res) => {
          expect(res.status).toBe(204);
          changed = true;
        });
      }
      logins.push(passwordLogin(logins.length % 2 ? b : a, user.email, user.password));
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    await change;
    // Three more once it was answered: they check the new hash.
    for (let i = 0; i < 3; i++) {
      logins.push(Promise.resolve(await passwordLogin(i % 2 ? b : a, user.email, user.password)));
    }
    const answers = await Promise.all(logins);
    const pairs = tokensOf(answers);
    const alive = await stillAlive(pairs);
    record(
      `password change, unheld burst: ${logins.length} sent, ${pairs.length} got tokens, ` +
        `${alive.length} alive`,
    );
    expect(changed).toBe(true);
    // Old-password logins that checked the new hash: 401 (the last three surely did).
    const refused = answers.filter((res) => res.status === 401);
    expect(refused.length + pairs.length).toBe(answers.length);
    expect(answers.slice(-3).map((res) => res.status)).toEqual([401, 401, 401]);
    expect(alive).toEqual([]);
    expect(await listedSessions(user.email, 'changed mid-burst 4')).toBe(1);
  });

  it('sessions opened before the binding existed (no credential on user nor session) keep working', async () => {
    const user = await signupAndLogin(a.app);
    const db = connectionOf(a.app);
    await db
      .collection('users')
      .updateOne({ _id: new Types.ObjectId(user.id) }, { $unset: { credentialVersion: '' } });
    await db
      .collection('sessions')
      .updateMany({ user: new Types.ObjectId(user.id) }, { $unset: { credential: '' } });
    const fresh = await login(a.app, user.email, user.password);
    await db
      .collection('sessions')
      .updateMany({ user: new Types.ObjectId(user.id) }, { $unset: { credential: '' } });
    for (const app of [a, b]) {
      await request(app.app.getHttpServer()).get('/api/users/me').set(fresh.auth).expect(200);
    }
    const list = await request(a.app.getHttpServer())
      .get('/api/auth/sessions')
      .set(fresh.auth)
      .expect(200);
    expect(list.body.total).toBe(2);
    await request(b.app.getHttpServer())
      .post('/api/auth/refresh')
      .send({ refreshToken: fresh.refreshToken })
      .expect(200);
  });
});

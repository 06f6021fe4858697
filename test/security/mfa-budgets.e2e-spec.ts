import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { Types } from 'mongoose';
import type { Response } from 'supertest';
import request from 'supertest';

import type { TestApp } from '../support/app.js';
import { createTestApp } from '../support/app.js';
import { connectionOf, expectUnchangedAfter } from '../support/db.js';
import type { TestSmtpServer } from '../support/mail.js';
import { mailIdle, startSmtpServer, tokenFromLatest } from '../support/mail.js';
import type { Enrolled } from '../support/mfa.js';
import { codeAt, enrolledUser, wrongCodes } from '../support/mfa.js';

/**
 * Hard caps on second-factor guesses by someone who holds the password (issue 20): a login
 * challenge dies after 5 wrong codes from any clients, an account gets at most
 * MFA_MAX_FAILURES_PER_DAY (10) wrong codes in 24 hours (then only a recovery code or a mailed
 * reset gets in), and the owner is mailed after 3 wrong codes. Every request comes from a client
 * address of its own (trusted proxy), so the per-client login limits never stop a guess: only
 * these caps do.
 */
const PER_CHALLENGE = 5;
const PER_DAY = 10;
const INVALID_CODE = 'Invalid code';
const INVALID_TOKEN = 'Invalid or expired MFA token';
const PUBLIC_URL = 'https://app.guardhouse.test';
const NOTICE = /wrong codes after your password/;

/** Figures for the report (reports/ is git-ignored). */
function record(line: string): void {
  const dir = join(process.cwd(), 'reports');
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, 'mfa-budgets.txt'), `${new Date().toISOString()} ${line}\n`);
}

let ipCounter = 0;
/** A distinct client per request: 10.20.x.y (the app trusts 127.0.0.1 as its proxy). */
const nextIp = () => {
  const n = ipCounter++;
  return `10.20.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;
};

describe('second-factor guess budgets', () => {
  let smtp: TestSmtpServer;
  let t: TestApp;
  let server: ReturnType<TestApp['app']['getHttpServer']>;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await createTestApp({
      label: 'sec_mfa_budgets',
      env: {
        TRUST_PROXY: '127.0.0.1',
        SMTP_URL: smtp.url,
        PUBLIC_URL,
        MAIL_MAX_PER_IP: '100000',
        // Only the second factor's own caps are under test: the account-wide slowdown of the
        // login throttle (shared with passwords) would otherwise space these guesses out.
        LOGIN_ACCOUNT_SLOWDOWN_AFTER: '100000',
      },
    });
    server = t.app.getHttpServer();
  });

  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const passwordStep = async (user: Enrolled, password = user.password): Promise<string> => {
    const res = await request(server)
      .post('/api/auth/login')
      .set('X-Forwarded-For', nextIp())
      .send({ email: user.email, password })
      .expect(200);
    expect(res.body.mfaRequired).toBe(true);
    return res.body.mfaToken as string;
  };

  const secondStep = (body: Record<string, unknown>): Promise<Response> =>
    request(server)
      .post('/api/auth/login/mfa')
      .set('X-Forwarded-For', nextIp())
      .send(body)
      .then((res) => res);

  const messages = (answers: Response[]) =>
    answers.map((res) => `${res.status} ${String(res.body.message)}`);

  const failureRecords = (user: Enrolled) =>
    connectionOf(t.app)
      .collection('mfa_attempts')
      .countDocuments({ user: new Types.ObjectId(user.id) });

  /** `count` wrong codes on fresh challenges of `user`, each checked (401 Invalid code). */
  async function spendFailures(user: Enrolled, count: number): Promise<void> {
    const codes = wrongCodes(user.secret, count);
    let mfaToken = await passwordStep(user);
    for (const [i, code] of codes.entries()) {
      if (i > 0 && i % (PER_CHALLENGE - 1) === 0) mfaToken = await passwordStep(user);
      const res = await secondStep({ mfaToken, code });
      expect(`${res.status} ${res.body.message}`).toBe(`401 ${INVALID_CODE}`);
    }
  }

  it('a login challenge dies after 5 wrong codes, whichever clients send them', async () => {
    const user = await enrolledUser(t.app);
    const mfaToken = await passwordStep(user);
    const answers: Response[] = [];
    for (const code of wrongCodes(user.secret, PER_CHALLENGE)) {
      answers.push(await secondStep({ mfaToken, code }));
    }
    expect(messages(answers)).toEqual(Array(PER_CHALLENGE).fill(`401 ${INVALID_CODE}`));
    // The right code no longer finishes this challenge…
    const right = await secondStep({ mfaToken, code: codeAt(user.secret, 1) });
    expect(`${right.status} ${right.body.message}`).toBe(`401 ${INVALID_TOKEN}`);
    expect(right.body.accessToken).toBeUndefined();
    // …a fresh password step does.
    await secondStep({ mfaToken: await passwordStep(user), code: codeAt(user.secret, 1) }).then(
      (res) => expect(res.status).toBe(200),
    );
  });

  it('20 wrong codes sent at once to one challenge: at most 5 checked, the rest refused, the challenge dead', async () => {
    const user = await enrolledUser(t.app);
    const mfaToken = await passwordStep(user);
    const answers = await Promise.all(
      wrongCodes(user.secret, 20).map((code) => secondStep({ mfaToken, code })),
    );
    const checked = answers.filter((res) => res.body.message === INVALID_CODE).length;
    const refused = answers.filter((res) => res.body.message === INVALID_TOKEN).length;
    record(`20 wrong codes at once to one challenge: ${checked} checked, ${refused} refused`);
    // Every status listed, so that a failure says which answer was not a 401.
    expect(answers.map((res) => res.status)).toEqual(answers.map(() => 401));
    expect(checked).toBeLessThanOrEqual(PER_CHALLENGE);
    expect(checked).toBeGreaterThan(0);
    expect(checked + refused).toBe(20);
    // Only the checked codes were spent from the account's budget.
    expect(await failureRecords(user)).toBe(checked);
    const right = await secondStep({ mfaToken, code: codeAt(user.secret, 1) });
    expect(`${right.status} ${right.body.message}`).toBe(`401 ${INVALID_TOKEN}`);
  });

  it(`caps an account at ${PER_DAY} wrong codes a day over challenges and clients; then a recovery code still gets in and clears them`, async () => {
    const user = await enrolledUser(t.app);
    await spendFailures(user, PER_DAY);
    // The right TOTP code is refused without being checked (and spends nothing)…
    const unchecked = await secondStep({
      mfaToken: await passwordStep(user),
      code: codeAt(user.secret, 1),
    });
    expect(unchecked.status).toBe(429);
    expect(Number(unchecked.headers['retry-after'])).toBeGreaterThan(23 * 3600);
    expect(unchecked.body.accessToken).toBeUndefined();
    expect(await failureRecords(user)).toBe(PER_DAY);
    // …a wrong recovery code is still checked (and counts)…
    const mfaToken = await passwordStep(user);
    const wrongRecovery = await secondStep({ mfaToken, recoveryCode: 'aaaaa-bbbbb' });
    expect(`${wrongRecovery.status} ${wrongRecovery.body.message}`).toBe(`401 ${INVALID_CODE}`);
    expect(await failureRecords(user)).toBe(PER_DAY + 1);
    // …and a right one gets in and clears the account's failures.
    const recovered = await secondStep({ mfaToken, recoveryCode: user.recoveryCodes[0] });
    expect(recovered.status).toBe(200);
    expect(await failureRecords(user)).toBe(0);
    await secondStep({ mfaToken: await passwordStep(user), code: codeAt(user.secret, 1) }).then(
      (res) => expect(res.status).toBe(200),
    );
  });

  it('recovery-code guesses count against the same cap', async () => {
    const user = await enrolledUser(t.app);
    let mfaToken = await passwordStep(user);
    for (let i = 0; i < PER_DAY; i++) {
      if (i > 0 && i % (PER_CHALLENGE - 1) === 0) mfaToken = await passwordStep(user);
      const res = await secondStep({ mfaToken, recoveryCode: `wrong-${i}-code` });
      expect(`${res.status} ${res.body.message}`).toBe(`401 ${INVALID_CODE}`);
    }
    const totp = await secondStep({
      mfaToken: await passwordStep(user),
      code: codeAt(user.secret, 1),
    });
    expect(totp.status).toBe(429);
  });

  it('codes sent to turn the factor off count too, and past the cap a right one is refused', async () => {
    const user = await enrolledUser(t.app);
    const off = (code: string) =>
      request(server)
        .delete('/api/auth/mfa/totp')
        .set(user.auth)
        .set('X-Forwarded-For', nextIp())
        .send({ password: user.password, code });
    for (const code of wrongCodes(user.secret, 3)) await off(code).expect(400);
    await spendFailures(user, PER_DAY - 3);
    const unchanged = await expectUnchangedAfter(t.app, ['mfa_factors', 'mfa_recovery_codes']);
    await off(codeAt(user.secret, 1)).expect(429);
    await unchanged();
  });

  it('a password reset by mail clears the failures', async () => {
    const user = await enrolledUser(t.app);
    await spendFailures(user, PER_DAY);
    await request(server)
      .post('/api/auth/password/forgot')
      .set('X-Forwarded-For', nextIp())
      .send({ email: user.email })
      .expect(202);
    await mailIdle(t.app);
    const token = tokenFromLatest(smtp, user.email, /reset your password/);
    const newPassword = 'reset by the owner 20';
    await request(server)
      .post('/api/auth/password/reset')
      .set('X-Forwarded-For', nextIp())
      .send({ token, newPassword })
      .expect(204);
    expect(await failureRecords(user)).toBe(0);
    const res = await secondStep({
      mfaToken: await passwordStep(user, newPassword),
      code: codeAt(user.secret, 1),
    });
    expect(res.status).toBe(200);
  });

  it('mails the owner once after 3 wrong codes that followed a correct password, not again within the hour', async () => {
    const user = await enrolledUser(t.app);
    await mailIdle(t.app);
    const notices = () =>
      smtp.inbox(user.email).filter((mail) => NOTICE.test(mail.parsed.subject ?? ''));
    const codes = wrongCodes(user.secret, 8);
    await spendFailures(user, 2);
    await mailIdle(t.app);
    expect(notices()).toHaveLength(0);
    // The third, and a burst of five more at once on a fresh challenge and a second one.
    const mfaToken = await passwordStep(user);
    await secondStep({ mfaToken, code: codes[2] });
    const other = await passwordStep(user);
    await Promise.all(codes.slice(3).map((code) => secondStep({ mfaToken: other, code })));
    await mailIdle(t.app);
    expect(notices()).toHaveLength(1);
    const [notice] = notices();
    expect(notice.parsed.text).toContain('3 wrong codes');
    for (const code of codes) expect(notice.raw).not.toContain(code);
  });
});

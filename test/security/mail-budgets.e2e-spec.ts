import { randomBytes } from 'node:crypto';

import type { Response } from 'supertest';
import request from 'supertest';

import { ON_REQUEST_MAIL_KINDS } from '../../src/auth/mail/mail-templates.js';
import type { TestApp } from '../support/app.js';
import { createTestApp } from '../support/app.js';
import type { TestSmtpServer } from '../support/mail.js';
import { mailIdle, startSmtpServer } from '../support/mail.js';
import type { TestUser } from '../support/users.js';
import { login, STRONG_PASSWORD } from '../support/users.js';

/**
 * Every route that mails an address on request, in one table: more requests than
 * MAIL_MAX_PER_ADDRESS for one address, each from a client address of its own (through a trusted
 * proxy, so no per-IP limit interferes), deliver at most MAIL_MAX_PER_ADDRESS messages to it.
 * The table must name every kind of message the kit sends on request (ON_REQUEST_MAIL_KINDS), so
 * a new mail route without a row fails here.
 */
const PER_ADDRESS = 3;
const REQUESTS = PER_ADDRESS + 4;
const PUBLIC_URL = 'https://app.guardhouse.test';

let ipCounter = 0;
/** A distinct documentation-range client (RFC 5737) per request. */
const nextIp = () => `198.51.100.${(ipCounter++ % 250) + 1}`;
const fresh = (label: string) => `${label}-${randomBytes(5).toString('hex')}@example.com`;

interface Apps {
  /** REQUIRE_VERIFIED_EMAIL=true: signup answers 202 for new and taken addresses alike. */
  quiet: TestApp;
  /** The same database with REQUIRE_VERIFIED_EMAIL=false: signup answers 201/409. */
  open: TestApp;
}

/** The subject of each kind of message sent on request. */
const SUBJECTS: Record<string, RegExp> = {
  'password-reset': /reset your password/,
  'verify-email': /confirm your email address/,
  'signup-existing': /someone tried to sign up with your address/,
  'email-change-confirm': /confirm your new email address/,
  'email-in-use': /already in use/,
};

interface Row {
  name: string;
  /** The kinds of message this row's requests send (each delivered subject is one of them). */
  kinds: string[];
  /** Answers the route may give (the request itself is never refused otherwise). */
  statuses: number[];
  /** Prepares the target address (and whatever the requests need); returns the request. */
  prepare(apps: Apps): Promise<{ address: string; send: (i: number) => Promise<Response> }>;
}

/** Signs up through the quiet app, verifies nothing, and logs in. */
async function unverifiedUser(apps: Apps, email = fresh('owner')): Promise<TestUser> {
  await request(apps.quiet.app.getHttpServer())
    .post('/api/auth/signup')
    .set('X-Forwarded-For', nextIp())
    .send({ email, password: STRONG_PASSWORD, name: 'Budget' })
    .expect(202);
  return login(apps.quiet.app, email, STRONG_PASSWORD);
}

const post = (app: TestApp, path: string, body: object, auth?: TestUser) => {
  const req = request(app.app.getHttpServer()).post(path).set('X-Forwarded-For', nextIp());
  return (auth ? req.set(auth.auth) : req).send(body).then((res) => res);
};

const ROWS: Row[] = [
  {
    name: 'POST /auth/password/forgot',
    kinds: ['password-reset'],
    statuses: [202, 429],
    async prepare(apps) {
      const owner = await unverifiedUser(apps);
      return {
        address: owner.email,
        send: () => post(apps.quiet, '/api/auth/password/forgot', { email: owner.email }),
      };
    },
  },
  {
    name: 'POST /auth/signup with a taken address (REQUIRE_VERIFIED_EMAIL=true)',
    kinds: ['signup-existing'],
    statuses: [202],
    async prepare(apps) {
      const owner = await unverifiedUser(apps);
      return {
        address: owner.email,
        send: () =>
          post(apps.quiet, '/api/auth/signup', {
            email: owner.email,
            password: STRONG_PASSWORD,
            name: 'Again',
          }),
      };
    },
  },
  {
    name: 'POST /auth/signup with a new, then taken address (REQUIRE_VERIFIED_EMAIL=true)',
    kinds: ['verify-email', 'signup-existing'],
    statuses: [202],
    prepare(apps) {
      const address = fresh('new');
      return Promise.resolve({
        address,
        send: () =>
          post(apps.quiet, '/api/auth/signup', {
            email: address,
            password: STRONG_PASSWORD,
            name: 'New',
          }),
      });
    },
  },
  {
    name: 'POST /auth/signup (REQUIRE_VERIFIED_EMAIL=false)',
    kinds: ['verify-email'],
    statuses: [201, 409],
    prepare(apps) {
      const address = fresh('open');
      return Promise.resolve({
        address,
        send: () =>
          post(apps.open, '/api/auth/signup', {
            email: address,
            password: STRONG_PASSWORD,
            name: 'Open',
          }),
      });
    },
  },
  {
    name: 'POST /auth/email/resend',
    kinds: ['verify-email'],
    statuses: [202, 429],
    async prepare(apps) {
      const owner = await unverifiedUser(apps);
      return {
        address: owner.email,
        send: () => post(apps.quiet, '/api/auth/email/resend', {}, owner),
      };
    },
  },
  {
    name: 'POST /users/me/email with a free address (each request from another account)',
    kinds: ['email-change-confirm'],
    statuses: [202, 429],
    async prepare(apps) {
      const address = fresh('wanted');
      const requesters = await Promise.all(
        Array.from({ length: REQUESTS }, () => unverifiedUser(apps)),
      );
      return {
        address,
        send: (i) =>
          post(
            apps.quiet,
            '/api/users/me/email',
            { newEmail: address, currentPassword: STRONG_PASSWORD },
            requesters[i],
          ),
      };
    },
  },
  {
    name: 'POST /users/me/email with a taken address (each request from another account)',
    kinds: ['email-in-use'],
    statuses: [202, 429],
    async prepare(apps) {
      const owner = await unverifiedUser(apps);
      const requesters = await Promise.all(
        Array.from({ length: REQUESTS }, () => unverifiedUser(apps)),
      );
      return {
        address: owner.email,
        send: (i) =>
          post(
            apps.quiet,
            '/api/users/me/email',
            { newEmail: owner.email, currentPassword: STRONG_PASSWORD },
            requesters[i],
          ),
      };
    },
  },
];

describe('mail sent on request: at most MAIL_MAX_PER_ADDRESS per address, on every route', () => {
  let smtp: TestSmtpServer;
  const apps = {} as Apps;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    const env = {
      SMTP_URL: smtp.url,
      PUBLIC_URL,
      TRUST_PROXY: '127.0.0.1',
      MAIL_MAX_PER_ADDRESS: String(PER_ADDRESS),
      // The per-address bound is the subject: per-IP limits would hide it.
      MAIL_MAX_PER_IP: '100000',
    };
    apps.quiet = await createTestApp({
      label: 'sec_mail_budgets',
      env: { ...env, REQUIRE_VERIFIED_EMAIL: 'true' },
    });
    apps.open = await createTestApp({ mongoUri: apps.quiet.mongoUri, env });
  });

  afterAll(async () => {
    await apps.open.close();
    await apps.quiet.close();
    await smtp.close();
  });

  it('has a row (and a subject) for every kind of message sent on request', () => {
    const covered = new Set(ROWS.flatMap((row) => row.kinds));
    expect([...ON_REQUEST_MAIL_KINDS].sort()).toEqual([...covered].sort());
    expect(Object.keys(SUBJECTS).sort()).toEqual([...covered].sort());
  });

  it.each(ROWS.map((row) => [row.name, row] as const))(
    '%s',
    async (_name, row) => {
      const { address, send } = await row.prepare(apps);
      await Promise.all([mailIdle(apps.quiet.app), mailIdle(apps.open.app)]);
      const before = smtp.inbox(address).length;
      const statuses: number[] = [];
      for (let i = 0; i < REQUESTS; i++) statuses.push((await send(i)).status);
      await Promise.all([mailIdle(apps.quiet.app), mailIdle(apps.open.app)]);
      const delivered = smtp.inbox(address).slice(before);
      expect(statuses.filter((status) => !row.statuses.includes(status))).toEqual([]);
      const subjects = delivered.map((mail) => mail.parsed.subject ?? '');
      expect(
        subjects.filter((subject) => !row.kinds.some((kind) => SUBJECTS[kind].test(subject))),
      ).toEqual([]);
      // The route does mail (the bound is not met by sending nothing)…
      expect(delivered.length).toBeGreaterThan(0);
      // …and never more than the budget, however many clients ask.
      expect(delivered.length).toBeLessThanOrEqual(PER_ADDRESS);
    },
    60_000,
  );
});

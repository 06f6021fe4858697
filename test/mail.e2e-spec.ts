import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { simpleParser } from 'mailparser';
import request from 'supertest';

import { createApp } from '../src/bootstrap.js';
import type { TestApp } from './support/app.js';
import { createTestApp, TEST_JWT_SECRET, testDatabaseUri } from './support/app.js';
import { enforceContract } from './support/contract.js';
import type { TestSmtpServer } from './support/mail.js';
import { linkIn, mailIdle, startSmtpServer } from './support/mail.js';
import { STRONG_PASSWORD } from './support/users.js';

const PUBLIC_URL = 'https://app.guardhouse.test';
const email = (label: string) => `${label}-${Date.now().toString(36)}@example.com`;

describe('account mail over SMTP', () => {
  let smtp: TestSmtpServer;
  let t: TestApp;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await createTestApp({
      label: 'mail',
      env: {
        SMTP_URL: smtp.url,
        PUBLIC_URL,
        MAIL_FROM: 'Guardhouse <no-reply@guardhouse.test>',
      },
    });
  });

  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const signup = (address: string) =>
    request(t.app.getHttpServer())
      .post('/api/auth/signup')
      .send({ email: address, password: STRONG_PASSWORD, name: 'Mail Test' });

  it('signup mails a verification link with a text and an HTML part, naming the product', async () => {
    const address = email('verify');
    expect((await signup(address)).status).toBe(201);
    await mailIdle(t.app);

    const [mail] = smtp.inbox(address);
    expect(smtp.inbox(address)).toHaveLength(1);
    expect(mail.parsed.from?.value).toEqual([
      { name: 'Guardhouse', address: 'no-reply@guardhouse.test' },
    ]);
    expect(mail.parsed.subject).toBe('Guardhouse: confirm your email address');
    expect(mail.parsed.text).toContain('Guardhouse');
    expect(mail.parsed.html).toEqual(expect.stringContaining('<a href="'));
    const link = linkIn(mail);
    expect(link.origin).toBe(PUBLIC_URL);
    expect(link.pathname).toBe('/verify-email');
    expect(link.searchParams.get('token')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Never the password.
    expect(mail.raw).not.toContain(STRONG_PASSWORD);
  });

  it('retries a message the server refused for a while, and the request never waits for it', async () => {
    smtp.failNext(2);
    const address = email('retry');
    expect((await signup(address)).status).toBe(201);
    await mailIdle(t.app);
    expect(smtp.inbox(address)).toHaveLength(1);
  });

  it('a mail server that is down is no 500: the request succeeds and the message is given up', async () => {
    const down = await createTestApp({
      label: 'mail_down',
      env: { SMTP_URL: 'smtp://127.0.0.1:9', PUBLIC_URL },
    });
    try {
      const server = down.app.getHttpServer();
      const res = await request(server)
        .post('/api/auth/signup')
        .send({ email: email('down'), password: STRONG_PASSWORD, name: 'Down' });
      expect(res.status).toBe(201);
      const forgot = await request(server)
        .post('/api/auth/password/forgot')
        .send({ email: res.body.email });
      expect(forgot.status).toBe(202);
    } finally {
      await down.close();
    }
  });
});

describe('account mail without SMTP_URL (development outbox)', () => {
  let outbox: string;
  let app: NestFastifyApplication;
  const output: string[] = [];

  beforeAll(async () => {
    outbox = await mkdtemp(join(tmpdir(), 'guardhouse-outbox-'));
    app = await createApp({
      env: {
        NODE_ENV: 'development',
        MONGODB_URI: testDatabaseUri('mail_outbox'),
        JWT_SECRET: TEST_JWT_SECRET,
        BCRYPT_ROUNDS: '10',
        SMTP_URL: undefined,
        MAIL_OUTBOX_DIR: outbox,
        PUBLIC_URL,
      },
      // Nest's own log lines (the mail service's among them), captured as they are written.
      logger: {
        log: (message: unknown) => void output.push(String(message)),
        error: () => undefined,
        warn: () => undefined,
      },
    });
    await enforceContract(app);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  afterAll(async () => {
    await app.close();
    await rm(outbox, { recursive: true, force: true });
  });

  it('writes each message as an .eml file and logs its link', async () => {
    const address = email('outbox');
    const res = await request(app.getHttpServer())
      .post('/api/auth/signup')
      .send({ email: address, password: STRONG_PASSWORD, name: 'Outbox' });
    expect(res.status).toBe(201);
    await mailIdle(app);

    const files = (await readdir(outbox)).filter((name) => name.endsWith('.eml'));
    expect(files).toHaveLength(1);
    const parsed = await simpleParser(await readFile(join(outbox, files[0])));
    expect(parsed.to && 'text' in parsed.to ? parsed.to.text : '').toBe(address);
    const link = /https?:\/\/\S+/.exec(parsed.text ?? '')?.[0];
    expect(link).toMatch(new RegExp(`^${PUBLIC_URL}/verify-email\\?token=`));
    expect(output.join('')).toContain(`link: ${link}`);
  });
});

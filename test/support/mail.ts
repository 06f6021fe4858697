import type { AddressInfo } from 'node:net';

import type { INestApplication } from '@nestjs/common';
import type { ParsedMail } from 'mailparser';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

import { MailService } from '../../src/auth/mail/mail.service.js';

export interface DeliveredMail {
  /** Envelope recipients (RCPT TO), lower-cased. */
  to: string[];
  parsed: ParsedMail;
  /** The raw message as the server received it. */
  raw: string;
}

export interface TestSmtpServer {
  /** `smtp://127.0.0.1:<port>`, for SMTP_URL. */
  url: string;
  delivered: DeliveredMail[];
  /** Messages delivered to `address`, oldest first. */
  inbox(address: string): DeliveredMail[];
  /** Refuse the next `count` messages with a temporary error (to exercise retries). */
  failNext(count: number): void;
  close(): Promise<void>;
}

/**
 * A real SMTP server on a free port (the `smtp-server` package), storing every message it accepts
 * parsed by `mailparser`. A message is stored before the server answers 250, so once the app's
 * mail queue is idle (`mailIdle`), everything it sent is here.
 */
export async function startSmtpServer(): Promise<TestSmtpServer> {
  const delivered: DeliveredMail[] = [];
  let failures = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (failures > 0) {
          failures--;
          const error = Object.assign(new Error('Try again later'), { responseCode: 451 });
          callback(error);
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw)
          .then((parsed) => {
            delivered.push({
              to: session.envelope.rcptTo.map((rcpt) => rcpt.address.toLowerCase()),
              parsed,
              raw,
            });
            callback();
          })
          .catch((error: Error) => callback(error));
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    delivered,
    inbox: (address) => delivered.filter((mail) => mail.to.includes(address.toLowerCase())),
    failNext: (count) => {
      failures = count;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Waits until the app has sent (or given up on) every message it queued. */
export function mailIdle(app: INestApplication): Promise<void> {
  return app.get(MailService, { strict: false }).idle();
}

/** The first link in a message's text part. */
export function linkIn(mail: DeliveredMail): URL {
  const match = /https?:\/\/\S+/.exec(mail.parsed.text ?? '');
  if (!match) throw new Error(`no link in mail "${mail.parsed.subject}"`);
  return new URL(match[0]);
}

/** The token of the link in the newest message to `address` whose subject matches. */
export function tokenFromLatest(smtp: TestSmtpServer, address: string, subject: RegExp): string {
  const mail = smtp
    .inbox(address)
    .filter((m) => subject.test(m.parsed.subject ?? ''))
    .at(-1);
  if (!mail) throw new Error(`no mail to ${address} matching ${subject}`);
  const token = linkIn(mail).searchParams.get('token');
  if (!token) throw new Error('link without token');
  return token;
}

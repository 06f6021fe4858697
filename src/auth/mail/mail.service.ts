import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { Transporter } from 'nodemailer';
import nodemailer from 'nodemailer';

import type { AuthModuleOptions, MailOptions } from '../auth.options.js';
import { AUTH_OPTIONS } from '../auth.options.js';
import type { MailMessage, NoticeMail, RequestedMail } from './mail-templates.js';

/** How long shutdown waits for mail still in flight. */
const DRAIN_TIMEOUT_MS = 10_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

const describe = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/**
 * Leave to send one message on request to one address: handed out by RecoveryThrottleService
 * once the request was counted against the address's budget (MAIL_MAX_PER_ADDRESS), and spent by
 * MailService.sendRequested. A route cannot mail an address it was asked to without one.
 */
export class MailGrant {
  private spent = false;

  private constructor(readonly address: string) {}

  /** For RecoveryThrottleService only, after it counted the request. */
  static afterCounting(address: string): MailGrant {
    return new MailGrant(address.toLowerCase());
  }

  /** Spends the grant on a message to its address; false when spent already or another one. */
  spendOn(to: string): boolean {
    if (this.spent || to.toLowerCase() !== this.address) return false;
    this.spent = true;
    return true;
  }
}

/**
 * Sends account mail off the request path: `defer` runs a job (look up the account, issue a token,
 * send) after the response, so a request's answer and timing never depend on whether an account
 * exists or the mail server is up. A send is tried `attempts` times with doubling waits; a message
 * that still fails is logged (never its link) and dropped.
 *
 * With `smtpUrl` mail goes through nodemailer's SMTP transport; without it (development) each
 * message is written to `outboxDir` as an `.eml` file and its link is logged.
 */
@Injectable()
export class MailService implements OnModuleDestroy {
  private readonly logger = new Logger(MailService.name);
  private readonly options?: MailOptions;
  private readonly transport?: Transporter;
  private readonly pending = new Set<Promise<void>>();
  private closing = false;

  constructor(@Inject(AUTH_OPTIONS) options: AuthModuleOptions) {
    this.options = options.mail;
    if (!this.options) return;
    this.transport = this.options.smtpUrl
      ? nodemailer.createTransport(this.options.smtpUrl)
      : nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  }

  get enabled(): boolean {
    return this.options !== undefined;
  }

  get productName(): string {
    return this.options?.productName ?? 'Guardhouse';
  }

  /** `PUBLIC_URL` + path (+ `?token=…`): links never use the request's Host. */
  link(path: string, token?: string): string {
    const url = new URL(path, this.options?.publicUrl ?? 'http://localhost');
    if (token !== undefined) url.searchParams.set('token', token);
    return url.toString();
  }

  /** Runs `job` after the current request; errors are logged, never thrown to the caller. */
  defer(job: () => Promise<void>): void {
    const run = (async () => {
      // Let the response go out first: the job's cost never shows in the request's timing.
      await new Promise<void>((resolve) => setImmediate(resolve));
      await job();
    })().catch((error: unknown) => this.logger.error(`Mail job failed: ${describe(error)}`));
    this.pending.add(run);
    void run.finally(() => this.pending.delete(run));
  }

  /** Queues a notice to an account's own address (see `defer`). */
  send(message: NoticeMail): void {
    this.defer(() => this.deliver(message));
  }

  /**
   * Queues a message sent on request, spending `grant` (one message to the grant's address).
   * Without a matching, unspent grant nothing is sent (an error is logged: a bug, not a client's).
   */
  sendRequested(grant: MailGrant, message: RequestedMail): void {
    if (!grant.spendOn(message.to)) {
      this.logger.error(`Mail "${message.kind}" not sent: no budget granted for its address`);
      return;
    }
    this.defer(() => this.deliver(message));
  }

  /** Resolves once every deferred job and send has finished (tests and shutdown wait on it). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async onModuleDestroy(): Promise<void> {
    // Mail still in flight gets its current attempt, no retries: shutdown is not held up.
    this.closing = true;
    await Promise.race([this.idle(), sleep(DRAIN_TIMEOUT_MS)]);
    this.transport?.close();
  }

  private async deliver(message: MailMessage): Promise<void> {
    if (!this.options || !this.transport) return;
    const attempts = Math.max(1, this.options.attempts ?? 3);
    const delay = this.options.retryDelayMs ?? 1000;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.sendOnce(message);
        return;
      } catch (error) {
        if (attempt >= attempts || this.closing) {
          this.logger.error(
            `Mail "${message.kind}" not sent after ${attempt} attempt(s): ${describe(error)}`,
          );
          return;
        }
        this.logger.warn(`Mail "${message.kind}" attempt ${attempt} failed: ${describe(error)}`);
        await sleep(delay * 2 ** (attempt - 1));
      }
    }
  }

  private async sendOnce(message: MailMessage): Promise<void> {
    const options = this.options as MailOptions;
    const info: { message?: unknown } = await (this.transport as Transporter).sendMail({
      from: options.from,
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
    });
    if (options.smtpUrl) return;
    const dir = options.outboxDir ?? '.data/outbox';
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${Date.now()}-${message.kind}-${randomBytes(4).toString('hex')}.eml`);
    await writeFile(file, info.message as Buffer);
    // Development only (no SMTP server): the link is the one way to follow the flow.
    this.logger.log(
      `Mail "${message.kind}" written to ${file}${message.link ? `; link: ${message.link}` : ''}`,
    );
  }
}

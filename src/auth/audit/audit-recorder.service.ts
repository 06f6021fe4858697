import { hostname } from 'node:os';

import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, Types } from 'mongoose';

import type { AuthModuleOptions } from '../auth.options.js';
import { AUTH_OPTIONS } from '../auth.options.js';
import type { AuthUser } from '../core/auth-user.js';
import type { ClientInfo } from '../core/client-info.js';
import { DUPLICATE_KEY } from '../shared/duplicate-key.js';
import type { AuditEventDetails, AuditEventType, AuditLogLine } from './audit-events.js';
import {
  ANONYMOUS_ACTOR,
  AUDIT_EVENT_TYPE_PATTERN,
  KIT_AUDIT_EVENT_TYPES,
} from './audit-events.js';
import { AuditEvent } from './schemas/audit-event.schema.js';

/** Who and what an event is about, besides its type and detail. */
export interface AuditParties {
  /** A user id, SYSTEM_ACTOR or ANONYMOUS_ACTOR. */
  actor: string;
  /** The account the event concerns; null when none is known. */
  subject: string | null;
  /** The session the event concerns or came from. */
  session?: string;
  client?: ClientInfo;
}

/** A signed-in user acting on their own account, or (an admin) on `subject`'s. */
export function byUser(
  user: AuthUser,
  client: ClientInfo,
  subject: string = user.id,
): AuditParties {
  return { actor: user.id, subject, session: user.sessionId, client };
}

/** A caller who proved no account (yet): a failed login, a reset request. */
export function byAnonymous(subject: string | null, client: ClientInfo): AuditParties {
  return { actor: ANONYMOUS_ACTOR, subject, client };
}

/** The recorder's counters, shown in `/api/health`'s detail. */
export interface AuditStats {
  /** Events waiting to be written. */
  buffered: number;
  /** Events lost since start: buffer full, refused by the database, or unwritten at shutdown. */
  dropped: number;
}

type AuditEventRecord = Omit<AuditEvent, 'session' | 'ip' | 'userAgent'> &
  Partial<Pick<AuditEvent, 'session' | 'ip' | 'userAgent'>>;

/** One insert writes at most this many events; a full batch is written without waiting. */
export const AUDIT_BATCH_SIZE = 100;
const MAX_RETRY_DELAY_MS = 30_000;
/** At shutdown, writing what is left may take this long (plus one attempt under way). */
const DRAIN_TIMEOUT_MS = 3000;
const DRAIN_RETRY_MS = 200;
const USER_AGENT_MAX_LENGTH = 512;

interface WriteError {
  code?: number;
  errmsg?: string;
}

/**
 * The per-document errors of an unordered insert of `size` events when the answer accounts for
 * every one of them (inserted, or refused with an error), else null: the insert failed as a whole
 * (a network error arrives as a bulk error with no write errors and nothing inserted) and nothing
 * is known to be stored.
 */
function writeErrorsOf(error: unknown, size: number): WriteError[] | null {
  const { writeErrors, result } = (error ?? {}) as {
    writeErrors?: WriteError | WriteError[] | null;
    result?: { insertedCount?: unknown } | null;
  };
  if (writeErrors === undefined || writeErrors === null) return null;
  const errors = Array.isArray(writeErrors) ? writeErrors : [writeErrors];
  const inserted = result?.insertedCount;
  if (errors.length === 0 || typeof inserted !== 'number') return null;
  return inserted + errors.length === size ? errors : null;
}

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/**
 * The one writer of the audit trail. `record` costs the request an object, a log line and an
 * array push: events are written off the request path, in batches (`insertMany`), at least every
 * `flushIntervalMs`. A failed write never reaches the request: the events stay buffered and the
 * write is retried with a growing delay (up to 30 s). The buffer is bounded (`bufferSize`): once
 * full, *new* events are dropped, so a flood of events during an outage cannot push out the older
 * ones it may be hiding; drops are counted, logged and shown by `stats()`. Shutdown writes what is
 * left (Nest calls `onApplicationShutdown` after the HTTP server closed and before the global
 * Mongoose connection closes).
 */
@Injectable()
export class AuditRecorder implements OnApplicationShutdown {
  private readonly logger = new Logger('Audit');
  readonly instance: string;
  private readonly flushIntervalMs: number;
  private readonly bufferSize: number;
  private readonly knownTypes: ReadonlySet<string>;
  private readonly writeLine: (line: AuditLogLine) => void;
  private readonly warnedTypes = new Set<string>();
  private buffer: AuditEventRecord[] = [];
  private timer?: NodeJS.Timeout;
  private writing?: Promise<void>;
  /** Failed writes in a row; 0 while writes succeed. */
  private failures = 0;
  private dropped = 0;
  /** Dropped since the last log line that counted drops. */
  private droppedUnreported = 0;
  private closing = false;

  constructor(
    @InjectModel(AuditEvent.name) private readonly events: Model<AuditEvent>,
    @Inject(AUTH_OPTIONS) options: AuthModuleOptions,
  ) {
    const audit = options.audit ?? {};
    this.instance = audit.instanceId ?? `${hostname()}:${process.pid}`;
    this.flushIntervalMs = audit.flushIntervalMs ?? 1000;
    this.bufferSize = audit.bufferSize ?? 10_000;
    if (!(this.flushIntervalMs > 0) || !(this.bufferSize > 0)) {
      throw new Error('audit.flushIntervalMs and audit.bufferSize must be positive numbers');
    }
    const hostTypes: readonly string[] = audit.eventTypes ?? [];
    const invalid = hostTypes.find((type) => !AUDIT_EVENT_TYPE_PATTERN.test(type));
    if (invalid !== undefined) {
      throw new Error(`audit.eventTypes: "${invalid}" is not a dotted lower-case event type`);
    }
    this.knownTypes = new Set<string>([...KIT_AUDIT_EVENT_TYPES, ...hostTypes]);
    this.writeLine = audit.log ?? ((line) => this.logger.log('audit event', line));
  }

  /** The kit's event types and the host's (`audit.eventTypes`). */
  isKnownType(type: string): boolean {
    return this.knownTypes.has(type);
  }

  /** Records one event: logged now (`event: 'audit'`), stored within `flushIntervalMs`. */
  record<T extends AuditEventType>(
    type: T,
    detail: AuditEventDetails[T],
    parties: AuditParties,
  ): void {
    const { ip, userAgent } = parties.client ?? {};
    const event: AuditEventRecord = {
      _id: new Types.ObjectId(),
      at: new Date(),
      type,
      actor: parties.actor,
      subject: parties.subject,
      ...(parties.session ? { session: parties.session } : {}),
      ...(ip ? { ip } : {}),
      ...(userAgent ? { userAgent: userAgent.slice(0, USER_AGENT_MAX_LENGTH) } : {}),
      instance: this.instance,
      detail,
    };
    const { _id, ...fields } = event;
    this.writeLine({ event: 'audit', id: _id.toHexString(), ...fields });
    if (!this.knownTypes.has(type) && !this.warnedTypes.has(type)) {
      this.warnedTypes.add(type);
      this.logger.warn(
        `Audit event type "${type}" is not in audit.eventTypes: it cannot be filtered`,
      );
    }
    if (this.buffer.length >= this.bufferSize) {
      this.drop(1);
      return;
    }
    this.buffer.push(event);
    this.schedule();
  }

  stats(): AuditStats {
    return { buffered: this.buffer.length, dropped: this.dropped };
  }

  /** Writes everything buffered now; resolves when the buffer is empty or a write failed. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    return this.write();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    clearTimeout(this.timer);
    await this.writing;
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (this.buffer.length > 0 && Date.now() < deadline) {
      if (!(await this.writeBatch())) {
        await new Promise((resolve) => setTimeout(resolve, DRAIN_RETRY_MS));
      }
    }
    if (this.buffer.length > 0) {
      this.logger.error(`${this.buffer.length} audit events could not be written before shutdown`);
      this.dropped += this.buffer.length;
      this.buffer = [];
    }
  }

  /** A write starts at once when a batch is full, else after the interval (or the retry delay). */
  private schedule(): void {
    if (this.writing || this.closing) return;
    if (this.buffer.length >= AUDIT_BATCH_SIZE && this.failures === 0) {
      void this.flush();
      return;
    }
    if (this.timer) return;
    const delay =
      this.failures === 0
        ? this.flushIntervalMs
        : Math.min(MAX_RETRY_DELAY_MS, this.flushIntervalMs * 2 ** this.failures);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, delay);
    this.timer.unref();
  }

  private write(): Promise<void> {
    this.writing ??= this.writeAll().finally(() => {
      this.writing = undefined;
      if (this.buffer.length > 0) this.schedule();
    });
    return this.writing;
  }

  private async writeAll(): Promise<void> {
    while (this.buffer.length > 0 && (await this.writeBatch()));
  }

  /**
   * Inserts the oldest events (unordered, so one refused document does not stop the others).
   * False when the database did not answer for them: they stay first in the buffer. Only this
   * method removes events from the buffer, and only one write runs at a time.
   */
  private async writeBatch(): Promise<boolean> {
    const batch = this.buffer.slice(0, AUDIT_BATCH_SIZE);
    try {
      await this.events.insertMany(batch, { ordered: false, lean: true });
    } catch (error) {
      const writeErrors = writeErrorsOf(error, batch.length);
      if (writeErrors === null) {
        this.failures++;
        this.logger.warn(
          `Audit events not written (${this.buffer.length} waiting, attempt ${this.failures}): ${messageOf(error)}`,
        );
        return false;
      }
      // A duplicate id is an event an earlier attempt stored (its answer was lost). Any other
      // refusal is about the document itself: retrying cannot help.
      const refused = writeErrors.filter((e) => e.code !== DUPLICATE_KEY);
      if (refused.length > 0) {
        this.dropped += refused.length;
        this.logger.error(
          `${refused.length} audit events refused by the database and dropped: ${refused[0].errmsg ?? 'no message'}`,
        );
      }
    }
    this.buffer.splice(0, batch.length);
    if (this.failures > 0) {
      this.logger.log(`Audit events written again after ${this.failures} failed attempts`);
      this.failures = 0;
    }
    this.reportDrops();
    return true;
  }

  private drop(count: number): void {
    if (this.droppedUnreported === 0) {
      this.logger.error(
        `Audit buffer full (${this.bufferSize} events): new events are dropped until writes succeed`,
      );
    }
    this.dropped += count;
    this.droppedUnreported += count;
  }

  private reportDrops(): void {
    if (this.droppedUnreported === 0) return;
    this.logger.error(
      `${this.droppedUnreported} audit events were dropped while the buffer was full (${this.dropped} since start)`,
    );
    this.droppedUnreported = 0;
  }
}

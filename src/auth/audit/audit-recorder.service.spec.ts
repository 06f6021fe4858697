import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { Model } from 'mongoose';
import { Types } from 'mongoose';

import type { AuditOptions } from '../auth.options.js';
import type { AuditParties } from './audit-recorder.service.js';
import { AUDIT_BATCH_SIZE, AuditRecorder } from './audit-recorder.service.js';
import type { AuditEvent } from './schemas/audit-event.schema.js';

type Stored = AuditEvent & { _id: Types.ObjectId };

/** insertMany as the driver answers it: each call takes the next outcome (default: all stored). */
function fakeModel() {
  const stored = new Map<string, Stored>();
  const outcomes: ((batch: Stored[]) => Error)[] = [];
  const insertMany = jest.fn((batch: Stored[]) => {
    const outcome = outcomes.shift();
    if (outcome) return Promise.reject(outcome(batch));
    for (const doc of batch) stored.set(doc._id.toHexString(), doc);
    return Promise.resolve(batch);
  });
  return { model: { insertMany } as unknown as Model<AuditEvent>, insertMany, stored, outcomes };
}

/** What Mongoose throws for an unordered insert the server could not be reached for. */
const unreachable = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:27017'), {
    writeErrors: [],
    result: { insertedCount: 0 },
  });

/** An unordered insert where the documents at `failed` were refused with `code`. */
const refused = (failed: number[], code: number, size: number) =>
  Object.assign(new Error('bulk write error'), {
    writeErrors: failed.map((index) => ({ index, code, errmsg: `E${code} refused` })),
    result: { insertedCount: size - failed.length },
  });

const PARTIES: AuditParties = {
  actor: 'anonymous',
  subject: new Types.ObjectId().toHexString(),
  session: 'session-1',
  client: { ip: '203.0.113.9', userAgent: 'x'.repeat(600) },
};

function recorder(audit: AuditOptions = {}) {
  const fake = fakeModel();
  const instance = new AuditRecorder(fake.model, {
    jwt: { issuer: 'i', audience: 'a' },
    audit: { flushIntervalMs: 60_000, instanceId: 'unit-1', ...audit },
  });
  return { recorder: instance, ...fake };
}

const failLogin = (r: AuditRecorder, n: number): void => {
  for (let i = 0; i < n; i++) {
    r.record('login.failed', { reason: 'wrong_password', email: `u${i}@example.com` }, PARTIES);
  }
};

const emails = (batch: Stored[]): unknown[] => batch.map((doc) => doc.detail.email);

describe('AuditRecorder', () => {
  let errors: jest.SpiedFunction<Logger['error']>;

  beforeEach(() => {
    errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  it('records without touching the database, then writes the events in one insert', async () => {
    const r = recorder();
    failLogin(r.recorder, 3);
    expect(r.insertMany).not.toHaveBeenCalled();
    expect(r.recorder.stats()).toEqual({ buffered: 3, dropped: 0 });
    await r.recorder.flush();
    expect(r.insertMany).toHaveBeenCalledTimes(1);
    const [batch, options] = r.insertMany.mock.calls[0] as unknown as [Stored[], object];
    expect(options).toEqual({ ordered: false, lean: true });
    expect(emails(batch)).toEqual(['u0@example.com', 'u1@example.com', 'u2@example.com']);
    expect(batch[0]).toMatchObject({
      type: 'login.failed',
      actor: 'anonymous',
      subject: PARTIES.subject,
      session: 'session-1',
      ip: '203.0.113.9',
      instance: 'unit-1',
      detail: { reason: 'wrong_password', email: 'u0@example.com' },
    });
    expect(batch[0].userAgent).toHaveLength(512);
    expect(batch[0].at).toBeInstanceOf(Date);
    expect(r.recorder.stats()).toEqual({ buffered: 0, dropped: 0 });
  });

  it('logs each event as one `event: audit` line, through the `log` option when given', () => {
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    recorder().recorder.record('mfa.enrolled', {}, PARTIES);
    const sink = jest.fn();
    recorder({ log: sink }).recorder.record('mfa.enrolled', {}, PARTIES);
    expect(log).toHaveBeenCalledTimes(1);
    expect(sink).toHaveBeenCalledWith(
      expect.objectContaining({ event: 'audit', type: 'mfa.enrolled', instance: 'unit-1' }),
    );
    expect(log).toHaveBeenCalledWith('audit event', {
      event: 'audit',
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      at: expect.any(Date),
      type: 'mfa.enrolled',
      actor: 'anonymous',
      subject: PARTIES.subject,
      session: 'session-1',
      ip: '203.0.113.9',
      userAgent: 'x'.repeat(512),
      instance: 'unit-1',
      detail: {},
    });
  });

  it('writes by itself after the interval, and at once when a batch is full', async () => {
    const timed = recorder({ flushIntervalMs: 20 });
    failLogin(timed.recorder, 1);
    expect(timed.insertMany).not.toHaveBeenCalled();
    for (let waited = 0; timed.stored.size === 0 && waited < 5000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(timed.stored.size).toBe(1);

    const full = recorder();
    failLogin(full.recorder, AUDIT_BATCH_SIZE);
    await new Promise((resolve) => setImmediate(resolve));
    expect(full.insertMany).toHaveBeenCalledTimes(1);
    expect(full.stored.size).toBe(AUDIT_BATCH_SIZE);
  });

  it('keeps the events when the database cannot be reached, and retries them later', async () => {
    const r = recorder();
    r.outcomes.push(unreachable, unreachable);
    failLogin(r.recorder, 3);
    await r.recorder.flush();
    await r.recorder.flush();
    expect(r.recorder.stats()).toEqual({ buffered: 3, dropped: 0 });
    await r.recorder.flush();
    expect(r.stored.size).toBe(3);
    const ids = (call: number) =>
      r.insertMany.mock.calls[call][0].map((doc) => doc._id.toHexString());
    // The same events each time: a retry cannot store one twice (its _id is already taken).
    expect(ids(0)).toEqual(ids(2));
    expect(r.recorder.stats()).toEqual({ buffered: 0, dropped: 0 });
  });

  it('retries after a growing delay while writes fail', async () => {
    jest.useFakeTimers();
    const r = recorder({ flushIntervalMs: 100 });
    r.outcomes.push(unreachable, unreachable, unreachable);
    failLogin(r.recorder, 1);
    const callsAt = async (ms: number) => {
      await jest.advanceTimersByTimeAsync(ms);
      return r.insertMany.mock.calls.length;
    };
    expect(await callsAt(100)).toBe(1); // the interval
    expect(await callsAt(199)).toBe(1); // then 200 ms
    expect(await callsAt(1)).toBe(2);
    expect(await callsAt(399)).toBe(2); // then 400 ms
    expect(await callsAt(1)).toBe(3);
    expect(await callsAt(800)).toBe(4); // then 800 ms: stored
    expect(r.stored.size).toBe(1);
  });

  it('counts an event whose duplicate id says it was stored already as stored', async () => {
    const r = recorder();
    r.outcomes.push((batch) => refused([0, 2], 11000, batch.length));
    failLogin(r.recorder, 3);
    await r.recorder.flush();
    expect(r.recorder.stats()).toEqual({ buffered: 0, dropped: 0 });
    expect(errors).not.toHaveBeenCalled();
  });

  it('drops, counts and logs an event the database refuses for itself', async () => {
    const r = recorder();
    r.outcomes.push((batch) => refused([1], 2, batch.length));
    failLogin(r.recorder, 3);
    await r.recorder.flush();
    expect(r.recorder.stats()).toEqual({ buffered: 0, dropped: 1 });
    expect(errors).toHaveBeenCalledWith(
      '1 audit events refused by the database and dropped: E2 refused',
    );
  });

  it('holds at most bufferSize events: newer ones are dropped, counted and logged', async () => {
    const r = recorder({ bufferSize: 5 });
    r.outcomes.push(unreachable);
    failLogin(r.recorder, 8);
    expect(r.recorder.stats()).toEqual({ buffered: 5, dropped: 3 });
    expect(errors).toHaveBeenCalledTimes(1);
    expect(errors).toHaveBeenCalledWith(
      'Audit buffer full (5 events): new events are dropped until writes succeed',
    );
    await r.recorder.flush(); // fails
    await r.recorder.flush();
    expect([...r.stored.values()].map((doc) => doc.detail.email)).toEqual(
      ['u0', 'u1', 'u2', 'u3', 'u4'].map((u) => `${u}@example.com`),
    );
    expect(errors).toHaveBeenLastCalledWith(
      '3 audit events were dropped while the buffer was full (3 since start)',
    );
  });

  it('writes what is left at shutdown', async () => {
    const r = recorder();
    failLogin(r.recorder, 2);
    await r.recorder.onApplicationShutdown();
    expect(r.stored.size).toBe(2);
    expect(r.recorder.stats()).toEqual({ buffered: 0, dropped: 0 });
  });

  it('retries at shutdown for a while, then counts what could not be written', async () => {
    jest.useFakeTimers();
    const r = recorder();
    r.outcomes.push(...Array.from({ length: 100 }, () => unreachable));
    failLogin(r.recorder, 2);
    const done = r.recorder.onApplicationShutdown();
    await jest.advanceTimersByTimeAsync(5000);
    await done;
    expect(r.insertMany.mock.calls.length).toBeGreaterThan(1);
    expect(r.recorder.stats()).toEqual({ buffered: 0, dropped: 2 });
    expect(errors).toHaveBeenCalledWith('2 audit events could not be written before shutdown');
  });

  it('knows the kit’s types and the host’s registered ones, and refuses a malformed one', () => {
    const plain = recorder();
    expect(plain.recorder.isKnownType('login.failed')).toBe(true);
    expect(plain.recorder.isKnownType('note.shared')).toBe(false);
    // Host types are declared by declaration merging; here they are only strings.
    const host = recorder({ eventTypes: ['note.shared'] as never[] });
    expect(host.recorder.isKnownType('note.shared')).toBe(true);
    expect(() => recorder({ eventTypes: ['Note Shared'] as never[] })).toThrow(/audit.eventTypes/);
  });
});

import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { Model } from 'mongoose';

import { fakeClockOnly } from '../../../test/support/clock.js';
import type { AuditRecorder } from './audit-recorder.service.js';
import { AuditRetention, SWEEP_PERIOD_MS } from './audit-retention.service.js';
import type { AuditEvent } from './schemas/audit-event.schema.js';
import type { AuditSweep } from './schemas/audit-sweep.schema.js';

const DAY_MS = 24 * 3600_000;

/** Two instances on one database: a shared lease collection whose `_id` is unique. */
function database() {
  const leases = new Map<string, { at: Date; instance: string }>();
  const deleted: Date[] = [];
  const sweeps = {
    create: jest.fn((doc: { _id: string; at: Date; instance: string }) => {
      if (leases.has(doc._id)) {
        return Promise.reject(Object.assign(new Error('E11000 duplicate key'), { code: 11000 }));
      }
      leases.set(doc._id, { at: doc.at, instance: doc.instance });
      return Promise.resolve(doc);
    }),
    deleteMany: jest.fn(() => Promise.resolve({ deletedCount: 0 })),
  };
  const events = {
    deleteMany: jest.fn((filter: { at: { $lt: Date } }) => {
      deleted.push(filter.at.$lt);
      return Promise.resolve({ deletedCount: 7 });
    }),
  };
  const instance = (name: string, retentionDays?: number) =>
    new AuditRetention(
      events as unknown as Model<AuditEvent>,
      sweeps as unknown as Model<AuditSweep>,
      { instance: name } as AuditRecorder,
      { jwt: { issuer: 'i', audience: 'a' }, audit: { retentionDays } },
    );
  return { instance, leases, deleted, events, sweeps };
}

describe('AuditRetention (fake clock)', () => {
  const start = new Date('2030-06-01T10:15:00Z');

  beforeEach(() => {
    fakeClockOnly(start);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('deletes what is older than 365 days by default, AUDIT_RETENTION_DAYS otherwise', async () => {
    const db = database();
    expect(await db.instance('a').sweep()).toBe(7);
    expect(db.deleted).toEqual([new Date(start.getTime() - 365 * DAY_MS)]);
    jest.advanceTimersByTime(SWEEP_PERIOD_MS);
    expect(await db.instance('b', 30).sweep()).toBe(7);
    expect(db.deleted[1]).toEqual(new Date(Date.now() - 30 * DAY_MS));
  });

  it('sweeps on one instance per period: the others find the period taken', async () => {
    const db = database();
    const [a, b] = [db.instance('a'), db.instance('b')];
    const first = await Promise.all([a.sweep(), b.sweep()]);
    expect(first.filter((r) => r === null)).toHaveLength(1);
    // Later in the same hour nobody sweeps; in the next hour one instance does.
    jest.advanceTimersByTime(30 * 60_000);
    expect(await a.sweep()).toBeNull();
    expect(await b.sweep()).toBeNull();
    jest.advanceTimersByTime(30 * 60_000);
    expect(await Promise.all([b.sweep(), a.sweep()])).toEqual([7, null]);
    expect(db.events.deleteMany).toHaveBeenCalledTimes(2);
    expect([...db.leases.values()].map((l) => l.instance).sort()).toEqual(['a', 'b']);
  });

  it('removes leases older than a day as it goes', async () => {
    const db = database();
    await db.instance('a').sweep();
    const [filter] = db.sweeps.deleteMany.mock.calls[0] as unknown as [{ at: { $lt: Date } }];
    expect(filter.at.$lt).toEqual(new Date(start.getTime() - DAY_MS));
  });

  it('refuses a retention that is not a positive number of days', () => {
    expect(() => database().instance('a', 0)).toThrow(/retentionDays/);
  });
});

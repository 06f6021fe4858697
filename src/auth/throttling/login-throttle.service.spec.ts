import { jest } from '@jest/globals';
import { getModelToken } from '@nestjs/mongoose';
import { Test } from '@nestjs/testing';
import { Types } from 'mongoose';

import { fakeClockOnly } from '../../../test/support/clock.js';
import type { AuthModuleOptions } from '../auth.options.js';
import { AUTH_OPTIONS } from '../auth.options.js';
import { LoginFailure } from './login-failure.schema.js';
import { LoginThrottleService, TooManyLoginAttemptsException } from './login-throttle.service.js';

interface Failure extends LoginFailure {
  _id: Types.ObjectId;
}

type Filter = Record<string, unknown>;

/** Equality, plus the few operators the service writes ($gt, $lte, $ne, $or). */
function matches(doc: Failure, filter: Filter): boolean {
  return Object.entries(filter).every(([field, wanted]) => {
    if (field === '$or') return (wanted as Filter[]).some((branch) => matches(doc, branch));
    const value = (doc as unknown as Record<string, unknown>)[field];
    if (wanted !== null && typeof wanted === 'object' && !(wanted instanceof Types.ObjectId)) {
      const ops = wanted as { $gt?: Date; $lte?: Date; $ne?: unknown };
      if (ops.$gt !== undefined && !((value as Date) > ops.$gt)) return false;
      if (ops.$lte !== undefined && !((value as Date) <= ops.$lte)) return false;
      if ('$ne' in ops && String(value) === String(ops.$ne)) return false;
      return true;
    }
    return String(value) === String(wanted);
  });
}

/** The login_failures collection in memory: just what the service calls. */
function failuresModel() {
  const docs: Failure[] = [];
  const sorted = (filter: Filter, order: Record<string, 1 | -1>) => {
    const [field, direction] = Object.entries(order)[0];
    const key = (doc: Failure) => (doc as unknown as Record<string, Date>)[field].getTime();
    return docs.filter((d) => matches(d, filter)).sort((a, b) => (key(a) - key(b)) * direction);
  };
  return {
    docs,
    init: () => Promise.resolve(),
    exists: (filter: Filter) =>
      Promise.resolve(docs.some((d) => matches(d, filter)) ? { _id: 'x' } : null),
    create: (doc: LoginFailure) => {
      const stored = { ...doc, _id: new Types.ObjectId() };
      docs.push(stored);
      return Promise.resolve(stored);
    },
    find: (filter: Filter) => ({
      select: () => ({ lean: () => Promise.resolve(docs.filter((d) => matches(d, filter))) }),
    }),
    updateOne: (filter: Filter, update: { $set: Partial<LoginFailure> }) => {
      const doc = docs.find((d) => matches(d, filter));
      if (doc) Object.assign(doc, update.$set);
      return Promise.resolve();
    },
    countDocuments: (filter: Filter) =>
      Promise.resolve(docs.filter((d) => matches(d, filter)).length),
    findOne: (filter: Filter) => ({
      sort: (order: Record<string, 1 | -1>) => Promise.resolve(sorted(filter, order)[0] ?? null),
    }),
    deleteOne: (filter: Filter) => {
      const index = docs.findIndex((d) => matches(d, filter));
      if (index >= 0) docs.splice(index, 1);
      return Promise.resolve();
    },
    deleteMany: (filter: Filter) => {
      for (let i = docs.length - 1; i >= 0; i--) if (matches(docs[i], filter)) docs.splice(i, 1);
      return Promise.resolve();
    },
  };
}

async function setUp(loginThrottle: AuthModuleOptions['loginThrottle']) {
  const model = failuresModel();
  const options: Partial<AuthModuleOptions> = { loginThrottle };
  const moduleRef = await Test.createTestingModule({
    providers: [
      LoginThrottleService,
      { provide: getModelToken(LoginFailure.name), useValue: model },
      { provide: AUTH_OPTIONS, useValue: options },
    ],
  }).compile();
  return { throttle: moduleRef.get(LoginThrottleService), model };
}

const refused = TooManyLoginAttemptsException;

/** One wrong password: admitted (or refused with 429), then reported as a failure. */
const guess = (throttle: LoginThrottleService, email: string, ip: string): Promise<void> =>
  throttle.countAttempt(email, ip);
const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const HOME = '203.0.113.10';
const CAFE = '198.51.100.20';

describe('LoginThrottleService counting', () => {
  beforeEach(() => {
    // Only the clock is fake: the service reads Date.now() and new Date().
    fakeClockOnly();
  });
  afterEach(() => jest.useRealTimers());

  it('refuses a client over the per-(account, client) limit, and only that pair', async () => {
    const { throttle, model } = await setUp({
      maxFailuresPerAccount: 3,
      maxFailuresPerIp: 100,
      accountSlowdownAfter: 100,
    });
    for (let i = 0; i < 3; i++) await guess(throttle, ALICE, HOME);
    const error = await guess(throttle, ALICE, HOME).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(refused);
    // Free again when the oldest failure leaves the 15-minute window.
    expect((error as TooManyLoginAttemptsException).retryAfterSeconds).toBe(900);
    // The refused attempt is not counted.
    expect(model.docs).toHaveLength(3);
    await expect(guess(throttle, ALICE, CAFE)).resolves.toBeUndefined();
    await expect(guess(throttle, BOB, HOME)).resolves.toBeUndefined();
  });

  it('refuses a client over the per-IP limit across accounts, not other IPs', async () => {
    const { throttle } = await setUp({
      maxFailuresPerAccount: 100,
      maxFailuresPerIp: 4,
      accountSlowdownAfter: 100,
    });
    for (let i = 0; i < 4; i++) await guess(throttle, `user${i}@example.com`, HOME);
    await expect(guess(throttle, 'user9@example.com', HOME)).rejects.toBeInstanceOf(refused);
    await expect(guess(throttle, 'user9@example.com', CAFE)).resolves.toBeUndefined();
  });

  it('forgets failures once they leave the window', async () => {
    const { throttle } = await setUp({ maxFailuresPerAccount: 2, accountSlowdownAfter: 100 });
    await guess(throttle, ALICE, HOME);
    await guess(throttle, ALICE, HOME);
    await expect(guess(throttle, ALICE, HOME)).rejects.toBeInstanceOf(refused);
    jest.advanceTimersByTime(900_001);
    await expect(guess(throttle, ALICE, HOME)).resolves.toBeUndefined();
  });

  it('spaces first guesses on an account past the slowdown threshold: 1 s, then 2 s', async () => {
    const { throttle } = await setUp({
      maxFailuresPerAccount: 100,
      maxFailuresPerIp: 100,
      accountSlowdownAfter: 2,
    });
    let ip = 0;
    const newClient = () => `192.0.2.${++ip}`;
    await guess(throttle, ALICE, newClient());
    await guess(throttle, ALICE, newClient());
    // Third failure on the account: the next first guess waits 1 s after the previous one.
    const early = await guess(throttle, ALICE, newClient()).catch((e: unknown) => e);
    expect(early).toBeInstanceOf(refused);
    expect((early as TooManyLoginAttemptsException).retryAfterSeconds).toBe(1);
    jest.advanceTimersByTime(1000);
    await expect(guess(throttle, ALICE, newClient())).resolves.toBeUndefined();
    // One more failure doubles the spacing.
    jest.advanceTimersByTime(1000);
    await expect(guess(throttle, ALICE, newClient())).rejects.toBeInstanceOf(refused);
    jest.advanceTimersByTime(1000);
    await expect(guess(throttle, ALICE, newClient())).resolves.toBeUndefined();
    // Another account is not slowed down.
    await expect(guess(throttle, BOB, newClient())).resolves.toBeUndefined();
  });

  it('counts an attempt only once its password was wrong; a right one leaves nothing', async () => {
    const { throttle, model } = await setUp({
      maxFailuresPerAccount: 1,
      accountSlowdownAfter: 100,
    });
    const right = await throttle.recordAttempt(ALICE, HOME);
    expect(model.docs).toEqual([expect.objectContaining({ email: ALICE, pending: true })]);
    await throttle.succeeded(right);
    expect(model.docs).toEqual([]);
    const wrong = await throttle.recordAttempt(ALICE, HOME);
    await throttle.failed(wrong);
    expect(model.docs).toEqual([expect.objectContaining({ email: ALICE, pending: false })]);
    await expect(guess(throttle, ALICE, HOME)).rejects.toBeInstanceOf(refused);
  });

  it("clears on success only that client's failures on that account", async () => {
    const { throttle } = await setUp({
      maxFailuresPerAccount: 2,
      maxFailuresPerIp: 100,
      accountSlowdownAfter: 100,
    });
    for (const [email, ip] of [
      [ALICE, HOME],
      [ALICE, HOME],
      [ALICE, CAFE],
      [ALICE, CAFE],
      [BOB, HOME],
      [BOB, HOME],
    ]) {
      await guess(throttle, email, ip);
    }
    await throttle.reset(ALICE, HOME);
    await expect(guess(throttle, ALICE, HOME)).resolves.toBeUndefined();
    await expect(guess(throttle, ALICE, CAFE)).rejects.toBeInstanceOf(refused);
    await expect(guess(throttle, BOB, HOME)).rejects.toBeInstanceOf(refused);
  });
});

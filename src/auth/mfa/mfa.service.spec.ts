import { randomBytes } from 'node:crypto';

import { UnauthorizedException } from '@nestjs/common';
import type { Model } from 'mongoose';
import { Types } from 'mongoose';
import { Secret, TOTP } from 'otpauth';

import { UserLifecycle } from '../accounts/user-lifecycle.service.js';
import type { AuthUserRecord, UsersService } from '../accounts/users.service.js';
import type { AuditRecorder } from '../audit/audit-recorder.service.js';
import type { AuthModuleOptions } from '../auth.options.js';
import { Role } from '../core/roles.js';
import type { MailService } from '../mail/mail.service.js';
import type { PasswordService } from '../password.service.js';
import type { SessionsService } from '../sessions/sessions.service.js';
import type { LoginThrottleService } from '../throttling/login-throttle.service.js';
import { MfaService } from './mfa.service.js';
import { MFA_CHALLENGE_MAX_FAILURES, MfaBudgetService } from './mfa-budget.service.js';
import type {
  MfaAttempt,
  MfaChallenge,
  MfaFactor,
  MfaRecoveryCode,
  MfaUsed,
} from './schemas/mfa.schema.js';
import { SecretBox } from './secret-box.js';

const KEY = randomBytes(32).toString('hex');
const USER_ID = new Types.ObjectId().toHexString();
const CHALLENGE_ID = 'a'.repeat(64);

type Doc = Record<string, unknown> & { _id: unknown };
type Filter = Record<string, unknown>;

const same = (a: unknown, b: unknown): boolean => String(a) === String(b);

/** The filters MfaBudgetService sends: equality, `$gt`, `$ne`. */
function matches(doc: Doc, filter: Filter): boolean {
  return Object.entries(filter).every(([field, wanted]) => {
    const value = doc[field];
    if (wanted !== null && typeof wanted === 'object' && !(wanted instanceof Types.ObjectId)) {
      const operators = wanted as Record<string, unknown>;
      if ('$gt' in operators) return (value as Date) > (operators.$gt as Date);
      if ('$lte' in operators) return (value as Date) <= (operators.$lte as Date);
      if ('$ne' in operators) return !(value === operators.$ne || same(value, operators.$ne));
    }
    if (wanted === null) return value === null || value === undefined;
    return same(value, wanted);
  });
}

/** A collection in memory, with the model calls the services make. */
function collection(unique = false) {
  const docs: Doc[] = [];
  const pause = () => new Promise((resolve) => setImmediate(resolve));
  return {
    docs,
    create: async (input: Filter) => {
      await pause();
      const doc = { _id: new Types.ObjectId(), ...input } as Doc;
      if (unique && docs.some((d) => same(d._id, doc._id))) {
        throw Object.assign(new Error('E11000 duplicate key'), { code: 11000 });
      }
      docs.push(doc);
      return doc;
    },
    countDocuments: async (filter: Filter) => {
      await pause();
      return docs.filter((d) => matches(d, filter)).length;
    },
    deleteOne: async (filter: Filter) => {
      await pause();
      const index = docs.findIndex((d) => matches(d, filter));
      if (index >= 0) docs.splice(index, 1);
    },
    deleteMany: async (filter: Filter) => {
      await pause();
      for (const doc of docs.filter((d) => matches(d, filter))) docs.splice(docs.indexOf(doc), 1);
    },
    findOne: (filter: Filter) => ({
      sort: () => Promise.resolve(docs.find((d) => matches(d, filter)) ?? null),
    }),
    init: () => Promise.resolve(),
  };
}

function setUp() {
  const box = new SecretBox(KEY);
  const secret = new Secret({ size: 20 });
  const factor = {
    _id: USER_ID,
    secret: box.seal(secret.base32, USER_ID),
    enrolment: 'enrolment-1',
    confirmedAt: new Date(0),
  };
  const user: AuthUserRecord = {
    id: USER_ID,
    email: 'ada@example.com',
    name: 'Ada',
    role: Role.User,
    active: true,
    emailVerified: true,
    mfaEnabled: true,
    createdAt: new Date(0),
    updatedAt: new Date(0),
    passwordChangedAt: null,
    credentialVersion: null,
  };
  const challenges = collection();
  challenges.docs.push({
    _id: CHALLENGE_ID,
    user: new Types.ObjectId(USER_ID),
    email: user.email,
    credential: null,
    expiresAt: new Date(Date.now() + 300_000),
  });
  const recoveryStore = collection();
  const recoveryCodes = {
    ...recoveryStore,
    // The database fails while a recovery code is looked up: a server error during the check.
    findById: (): Promise<null> => Promise.reject(new Error('connection reset by peer')),
  };
  const attempts = collection();
  const options: AuthModuleOptions = {
    jwt: { issuer: 'i', audience: 'a' },
    mfa: { encryptionKey: KEY },
  };
  const budget = new MfaBudgetService(attempts as unknown as Model<MfaAttempt>, options);
  const mfa = new MfaService(
    { findById: () => Promise.resolve(factor) } as unknown as Model<MfaFactor>,
    recoveryCodes as unknown as Model<MfaRecoveryCode>,
    {
      ...challenges,
      // Whatever mfaToken is sent, it is this challenge's (until the challenge is deleted).
      findById: () => Promise.resolve(challenges.docs[0] ?? null),
    } as unknown as Model<MfaChallenge>,
    collection(true) as unknown as Model<MfaUsed>,
    { findById: () => Promise.resolve({ ...user }) } as unknown as UsersService,
    {} as PasswordService,
    {} as SessionsService,
    {
      countAttempt: () => Promise.resolve(),
      reset: () => Promise.resolve(),
    } as unknown as LoginThrottleService,
    new UserLifecycle(),
    budget,
    { record: () => undefined } as unknown as AuditRecorder,
    { enabled: false } as MailService,
    options,
  );
  const totp = new TOTP({ secret });
  const taken = new Set(
    [-2, -1, 0, 1, 2].map((s) => totp.generate({ timestamp: Date.now() + s * 30_000 })),
  );
  const wrong = Array.from({ length: 100 }, (_, n) => String(n).padStart(6, '0')).filter(
    (code) => !taken.has(code),
  );
  return { mfa, attempts, wrong };
}

const login = (mfa: MfaService, body: { code?: string; recoveryCode?: string }) =>
  mfa.finishLogin({ mfaToken: 'token', ...body }, { ip: '203.0.113.1' });

describe('MfaService: a server error during a code check spends no attempt', () => {
  it('gives the attempt back when the recovery-code lookup fails, leaving the whole budget', async () => {
    const { mfa, attempts, wrong } = setUp();
    await expect(login(mfa, { recoveryCode: 'k7m2q-9xw4d' })).rejects.toThrow(
      'connection reset by peer',
    );
    await expect(login(mfa, { recoveryCode: 'k7m2q-9xw4d' })).rejects.toThrow(
      'connection reset by peer',
    );
    // Nothing was spent…
    expect(attempts.docs).toHaveLength(0);
    // …so the challenge still gets its full MFA_CHALLENGE_MAX_FAILURES wrong codes checked,
    for (const code of wrong.slice(0, MFA_CHALLENGE_MAX_FAILURES)) {
      await expect(login(mfa, { code })).rejects.toThrow(new UnauthorizedException('Invalid code'));
    }
    expect(attempts.docs).toHaveLength(MFA_CHALLENGE_MAX_FAILURES);
    // …and not one more.
    await expect(login(mfa, { code: wrong[MFA_CHALLENGE_MAX_FAILURES] })).rejects.toThrow(
      new UnauthorizedException('Invalid or expired MFA token'),
    );
    expect(attempts.docs).toHaveLength(MFA_CHALLENGE_MAX_FAILURES);
  });
});

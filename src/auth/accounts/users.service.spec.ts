import { jest } from '@jest/globals';
import { ConflictException } from '@nestjs/common';
import { getModelToken } from '@nestjs/mongoose';
import { Test } from '@nestjs/testing';
import { Types } from 'mongoose';

import { AuditRecorder } from '../audit/audit-recorder.service.js';
import type { AuthUser } from '../core/auth-user.js';
import type { ClientInfo } from '../core/client-info.js';
import { Role } from '../core/roles.js';
import { AdminLockService } from './admin-lock.service.js';
import { User } from './schemas/user.schema.js';
import { UserSecurityChange } from './schemas/user-security-change.schema.js';
import { UserLifecycle } from './user-lifecycle.service.js';
import { UsersService } from './users.service.js';

interface UserDoc {
  _id: Types.ObjectId;
  email: string;
  name: string;
  role: Role;
  active: boolean;
  deletedAt: Date | null;
  passwordChangedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

type Filter = Record<string, unknown>;

/** Ids arrive as strings or ObjectIds; both compare by their hex. */
const text = (value: unknown): string =>
  value instanceof Types.ObjectId ? value.toHexString() : String(value);

function matches(doc: object, filter: Filter): boolean {
  return Object.entries(filter).every(([field, wanted]) => {
    const value = (doc as Record<string, unknown>)[field];
    if (wanted !== null && typeof wanted === 'object' && '$ne' in wanted) {
      return text(value) !== text(wanted.$ne);
    }
    if (wanted === null) return value === null || value === undefined;
    return text(value) === text(wanted);
  });
}

/** The users and user_security_changes collections in memory: what UsersService calls. */
async function setUp(accounts: { role: Role; active?: boolean }[]) {
  const docs: UserDoc[] = accounts.map(({ role, active = true }, i) => ({
    _id: new Types.ObjectId(),
    email: `u${i}@example.com`,
    name: `U${i}`,
    role,
    active,
    deletedAt: null,
    passwordChangedAt: null,
    createdAt: new Date(0),
    updatedAt: new Date(0),
  }));
  const byId = (id: unknown) => docs.find((d) => d._id.toString() === String(id)) ?? null;
  const users = {
    findById: (id: string) => Promise.resolve(byId(id) && { ...byId(id) }),
    countDocuments: (filter: Filter) =>
      Promise.resolve(docs.filter((d) => matches(d, filter)).length),
    updateOne: (filter: { _id: string }, update: { $set: Partial<UserDoc> }) => {
      const doc = byId(filter._id);
      if (doc) Object.assign(doc, update.$set);
      return Promise.resolve();
    },
    deleteOne: (filter: { _id: string }) => {
      const doc = byId(filter._id);
      if (doc) docs.splice(docs.indexOf(doc), 1);
      return Promise.resolve();
    },
  };
  const records: (Record<string, unknown> & { _id: Types.ObjectId; at: Date })[] = [];
  const securityChanges = {
    create: (record: Record<string, unknown> & { at: Date }) => {
      records.push({ ...record, _id: new Types.ObjectId() });
      return Promise.resolve();
    },
    find: (filter: Filter) => ({
      lean: () => Promise.resolve(records.filter((r) => matches(r, filter))),
    }),
    deleteMany: () => Promise.resolve(),
  };
  const lifecycle = {
    changed: jest.fn(() => Promise.resolve()),
    disabled: jest.fn(() => Promise.resolve()),
    disabledByAdmin: jest.fn(() => Promise.resolve()),
    deleting: jest.fn(() => Promise.resolve()),
    scheduleSweep: jest.fn(),
  };
  const audit = { record: jest.fn() };
  const moduleRef = await Test.createTestingModule({
    providers: [
      UsersService,
      { provide: getModelToken(User.name), useValue: users },
      { provide: getModelToken(UserSecurityChange.name), useValue: securityChanges },
      { provide: UserLifecycle, useValue: lifecycle },
      {
        provide: AdminLockService,
        useValue: { withLock: <T>(work: () => Promise<T>) => work() },
      },
      { provide: AuditRecorder, useValue: audit },
    ],
  }).compile();
  return {
    service: moduleRef.get(UsersService),
    ids: docs.map((d) => d._id.toString()),
    stored: (id: string) => byId(id),
    lifecycle,
    audit,
  };
}

const CLIENT: ClientInfo = { ip: '203.0.113.7', userAgent: 'UnitTest/1.0' };

/** The signed-in user a request carries (only what the service reads). */
const signedIn = (id: string, sessionId = 'session-of-the-actor'): AuthUser => ({
  id,
  email: `${id}@example.com`,
  name: 'Actor',
  role: Role.Admin,
  active: true,
  emailVerified: true,
  createdAt: new Date(0),
  updatedAt: new Date(0),
  sessionId,
});

/** An admin who is none of the set-up accounts. */
const ADMIN = signedIn(new Types.ObjectId().toHexString());

type Removal = [string, (service: UsersService, id: string) => Promise<unknown>];

const REMOVALS: Removal[] = [
  ['demoted', (service, id) => service.adminUpdate(id, { role: Role.User }, ADMIN, CLIENT)],
  [
    'disabled by an admin',
    (service, id) => service.adminUpdate(id, { active: false }, ADMIN, CLIENT),
  ],
  ['disabled by themselves', (service, id) => service.disable(signedIn(id), CLIENT)],
  ['deleted', (service, id) => service.remove(id, ADMIN, CLIENT)],
];

describe('UsersService: the last active admin', () => {
  it.each(REMOVALS)('cannot be %s (409) and stays an active admin', async (_how, remove) => {
    const s = await setUp([{ role: Role.Admin }, { role: Role.User }]);
    const error = await remove(s.service, s.ids[0]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictException);
    expect((error as ConflictException).message).toBe(
      'The last active admin cannot be demoted, disabled or deleted',
    );
    expect(s.stored(s.ids[0])).toMatchObject({ role: Role.Admin, active: true, deletedAt: null });
    expect(s.lifecycle.disabled).not.toHaveBeenCalled();
    expect(s.lifecycle.deleting).not.toHaveBeenCalled();
  });

  it.each(REMOVALS)(
    'is not counted when disabled: the remaining one cannot be %s',
    async (_how, remove) => {
      const s = await setUp([{ role: Role.Admin }, { role: Role.Admin, active: false }]);
      await expect(remove(s.service, s.ids[0])).rejects.toBeInstanceOf(ConflictException);
    },
  );

  it.each(REMOVALS)('can be %s while another active admin remains', async (_how, remove) => {
    const s = await setUp([{ role: Role.Admin }, { role: Role.Admin }]);
    await remove(s.service, s.ids[0]);
    const after = s.stored(s.ids[0]);
    expect(after === null || after.role === Role.User || !after.active).toBe(true);
    expect(s.stored(s.ids[1])).toMatchObject({ role: Role.Admin, active: true });
  });

  it('does not stop an admin from disabling, demoting or deleting a regular user', async () => {
    const s = await setUp([{ role: Role.Admin }, { role: Role.User }, { role: Role.User }]);
    await expect(
      s.service.adminUpdate(s.ids[1], { active: false }, ADMIN, CLIENT),
    ).resolves.toMatchObject({ active: false });
    await expect(
      s.service.adminUpdate(s.ids[2], { role: Role.User }, ADMIN, CLIENT),
    ).resolves.toMatchObject({ role: Role.User });
    await s.service.remove(s.ids[2], ADMIN, CLIENT);
    expect(s.stored(s.ids[2])).toBeNull();
  });

  it('lets the last admin change what does not take admin rights away', async () => {
    const s = await setUp([{ role: Role.Admin }]);
    await expect(
      s.service.adminUpdate(s.ids[0], { role: Role.Admin, active: true }, ADMIN, CLIENT),
    ).resolves.toMatchObject({ role: Role.Admin, active: true });
  });
});

describe('UsersService: audit events', () => {
  const byAdmin = (subject: string) => ({
    actor: ADMIN.id,
    subject,
    session: ADMIN.sessionId,
    client: CLIENT,
  });

  it('records what an admin changed, with the admin as actor and the account as subject', async () => {
    const s = await setUp([{ role: Role.User }, { role: Role.User, active: false }]);
    await s.service.adminUpdate(s.ids[0], { role: Role.Admin, active: false }, ADMIN, CLIENT);
    await s.service.adminUpdate(s.ids[1], { active: true }, ADMIN, CLIENT);
    await s.service.remove(s.ids[1], ADMIN, CLIENT);
    expect(s.audit.record.mock.calls).toEqual([
      ['user.role_changed', { from: Role.User, to: Role.Admin }, byAdmin(s.ids[0])],
      ['user.disabled', { by: 'admin' }, byAdmin(s.ids[0])],
      ['user.enabled', {}, byAdmin(s.ids[1])],
      ['user.deleted', {}, byAdmin(s.ids[1])],
    ]);
  });

  it('records no event for a value the account already had, nor for a refused change', async () => {
    const s = await setUp([{ role: Role.Admin }, { role: Role.User }]);
    await s.service.adminUpdate(s.ids[1], { role: Role.User, active: true }, ADMIN, CLIENT);
    await s.service.remove(s.ids[0], ADMIN, CLIENT).catch(() => undefined);
    await s.service.disable(signedIn(s.ids[0]), CLIENT).catch(() => undefined);
    expect(s.audit.record).not.toHaveBeenCalled();
  });

  it('records a self-disable with the owner as actor and subject', async () => {
    const s = await setUp([{ role: Role.User }]);
    const owner = signedIn(s.ids[0], 'owner-session');
    await s.service.disable(owner, CLIENT);
    expect(s.audit.record.mock.calls).toEqual([
      [
        'user.disabled',
        { by: 'user' },
        { actor: owner.id, subject: owner.id, session: 'owner-session', client: CLIENT },
      ],
    ]);
  });
});

import { jest } from '@jest/globals';
import { ConflictException } from '@nestjs/common';
import { getModelToken } from '@nestjs/mongoose';
import { Test } from '@nestjs/testing';
import { Types } from 'mongoose';

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
    ],
  }).compile();
  return {
    service: moduleRef.get(UsersService),
    ids: docs.map((d) => d._id.toString()),
    stored: (id: string) => byId(id),
    lifecycle,
  };
}

type Removal = [string, (service: UsersService, id: string) => Promise<unknown>];

const REMOVALS: Removal[] = [
  ['demoted', (service, id) => service.adminUpdate(id, { role: Role.User })],
  ['disabled by an admin', (service, id) => service.adminUpdate(id, { active: false })],
  ['disabled by themselves', (service, id) => service.disable(id)],
  ['deleted', (service, id) => service.remove(id)],
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
    await expect(s.service.adminUpdate(s.ids[1], { active: false })).resolves.toMatchObject({
      active: false,
    });
    await expect(s.service.adminUpdate(s.ids[2], { role: Role.User })).resolves.toMatchObject({
      role: Role.User,
    });
    await s.service.remove(s.ids[2]);
    expect(s.stored(s.ids[2])).toBeNull();
  });

  it('lets the last admin change what does not take admin rights away', async () => {
    const s = await setUp([{ role: Role.Admin }]);
    await expect(
      s.service.adminUpdate(s.ids[0], { role: Role.Admin, active: true }),
    ).resolves.toMatchObject({ role: Role.Admin, active: true });
  });
});

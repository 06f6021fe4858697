import type { ExecutionContext } from '@nestjs/common';
import {
  BadRequestException,
  ForbiddenException,
  NotFoundException,
  UnauthorizedException,
} from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import { Test } from '@nestjs/testing';
import { Types } from 'mongoose';

import type { AuthRequest, AuthUser } from '../core/auth-user.js';
import { Owned } from '../core/decorators/owned.decorator.js';
import { Role } from '../core/roles.js';
import { OwnershipGuard } from './ownership.guard.js';

const OWNER = new Types.ObjectId().toString();
const STRANGER = new Types.ObjectId().toString();
const ADMIN = new Types.ObjectId().toString();

class Handlers {
  @Owned({ model: 'Movie', ownerField: 'addedBy' })
  shared(): void {}

  @Owned({ model: 'Todo', ownerField: 'owner', visibility: 'private' })
  personal(): void {}

  @Owned({ model: 'Todo', ownerField: 'owner', param: 'todoId', visibility: 'private' })
  byOtherParam(): void {}

  open(): void {}
}

const who = (id: string, role = Role.User): AuthUser =>
  ({ id, role, active: true, email: `${id}@example.com`, name: 'x' }) as AuthUser;

async function setUp() {
  /** One stored document per model, owned by OWNER. */
  const stored = new Map<string, { id: string; owner: Types.ObjectId }>();
  const reads: string[] = [];
  const connection = {
    model: (name: string) => ({
      findById: (id: string) => {
        reads.push(`${name}:${id}`);
        const doc = [...stored.values()].find((d) => d.id === id);
        const field = name === 'Movie' ? 'addedBy' : 'owner';
        return Promise.resolve(
          doc
            ? { id: doc.id, get: (path: string) => (path === field ? doc.owner : undefined) }
            : null,
        );
      },
    }),
  };
  const moduleRef = await Test.createTestingModule({
    providers: [OwnershipGuard, { provide: getConnectionToken(), useValue: connection }],
  }).compile();
  const guard = moduleRef.get(OwnershipGuard);
  const add = (model: string) => {
    const id = new Types.ObjectId().toString();
    stored.set(`${model}:${id}`, { id, owner: new Types.ObjectId(OWNER) });
    return id;
  };
  const check = (
    handler: keyof Handlers,
    user: AuthUser | undefined,
    params: Record<string, string>,
  ) => {
    const request = { user, params } as unknown as AuthRequest;
    const context = {
      getHandler: () => Handlers.prototype[handler],
      getClass: () => Handlers,
      switchToHttp: () => ({ getRequest: () => request }),
    } as unknown as ExecutionContext;
    return { answer: guard.canActivate(context), request };
  };
  return { add, check, reads };
}

describe('OwnershipGuard', () => {
  it('lets the owner through and hands the loaded document to the handler', async () => {
    const s = await setUp();
    const id = s.add('Movie');
    const { answer, request } = s.check('shared', who(OWNER), { id });
    await expect(answer).resolves.toBe(true);
    expect(request.ownedResource).toMatchObject({ id });
  });

  it('answers 403 to another user on a shared resource, and hands nothing over', async () => {
    const s = await setUp();
    const id = s.add('Movie');
    const { answer, request } = s.check('shared', who(STRANGER), { id });
    await expect(answer).rejects.toBeInstanceOf(ForbiddenException);
    expect(request.ownedResource).toBeUndefined();
  });

  it('answers 404, not 403, to another user on a private resource', async () => {
    const s = await setUp();
    const id = s.add('Todo');
    await expect(s.check('personal', who(STRANGER), { id }).answer).rejects.toBeInstanceOf(
      NotFoundException,
    );
  });

  it.each([['shared', 'Movie'] as const, ['personal', 'Todo'] as const])(
    "lets an admin through on someone else's %s resource",
    async (handler, model) => {
      const s = await setUp();
      const id = s.add(model);
      await expect(s.check(handler, who(ADMIN, Role.Admin), { id }).answer).resolves.toBe(true);
    },
  );

  it('answers 404 for a missing resource, to owner and admin alike', async () => {
    const s = await setUp();
    const id = new Types.ObjectId().toString();
    await expect(s.check('shared', who(OWNER), { id }).answer).rejects.toBeInstanceOf(
      NotFoundException,
    );
    await expect(s.check('personal', who(ADMIN, Role.Admin), { id }).answer).rejects.toBeInstanceOf(
      NotFoundException,
    );
  });

  it.each([['not-an-id'], ['0123456789abcdef0123456'], ['zzzzzzzzzzzzzzzzzzzzzzzz']])(
    'answers 400 for the invalid id %s without reading the database',
    async (id) => {
      const s = await setUp();
      await expect(s.check('shared', who(OWNER), { id }).answer).rejects.toBeInstanceOf(
        BadRequestException,
      );
      expect(s.reads).toEqual([]);
    },
  );

  it('reads the id from the parameter the decorator names', async () => {
    const s = await setUp();
    const id = s.add('Todo');
    await expect(s.check('byOtherParam', who(OWNER), { todoId: id }).answer).resolves.toBe(true);
    await expect(s.check('byOtherParam', who(OWNER), { id }).answer).rejects.toBeInstanceOf(
      BadRequestException,
    );
  });

  it('answers 401 without a user and lets routes without @Owned through', async () => {
    const s = await setUp();
    const id = s.add('Movie');
    await expect(s.check('shared', undefined, { id }).answer).rejects.toBeInstanceOf(
      UnauthorizedException,
    );
    await expect(s.check('open', undefined, {}).answer).resolves.toBe(true);
  });
});

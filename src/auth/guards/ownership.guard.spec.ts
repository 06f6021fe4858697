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

  /** A recipe is public or private one by one (its `isPublic` path). */
  @Owned({ model: 'Recipe', ownerField: 'owner', readableBy: 'isPublic' })
  recipe(): void {}

  /** Visible to signed-in callers only, decided by a predicate. */
  @Owned({
    model: 'Recipe',
    ownerField: 'owner',
    readableBy: (doc, user) => user !== undefined && doc.get('isPublic') === true,
  })
  membersOnly(): void {}

  open(): void {}
}

const who = (id: string, role = Role.User): AuthUser =>
  ({ id, role, active: true, email: `${id}@example.com`, name: 'x' }) as AuthUser;

async function setUp() {
  /** Documents by `model:id`, all owned by OWNER. */
  const stored = new Map<string, { id: string; owner: Types.ObjectId; isPublic: boolean }>();
  const reads: string[] = [];
  const connection = {
    model: (name: string) => ({
      findById: (id: string) => {
        reads.push(`${name}:${id}`);
        const doc = stored.get(`${name}:${id}`);
        const field = name === 'Movie' ? 'addedBy' : 'owner';
        const get = (path: string) =>
          path === field ? doc?.owner : path === 'isPublic' ? doc?.isPublic : undefined;
        return Promise.resolve(doc ? { id: doc.id, get } : null);
      },
    }),
  };
  const moduleRef = await Test.createTestingModule({
    providers: [OwnershipGuard, { provide: getConnectionToken(), useValue: connection }],
  }).compile();
  const guard = moduleRef.get(OwnershipGuard);
  const add = (model: string, isPublic = false) => {
    const id = new Types.ObjectId().toString();
    stored.set(`${model}:${id}`, { id, owner: new Types.ObjectId(OWNER), isPublic });
    return id;
  };
  const check = (
    handler: keyof Handlers,
    user: AuthUser | undefined,
    params: Record<string, string>,
    method = 'GET',
  ) => {
    const request = { user, params, method } as unknown as AuthRequest;
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

describe('OwnershipGuard with per-document visibility (readableBy)', () => {
  const WRITES = ['PUT', 'PATCH', 'DELETE'];

  it('serves a public document to anyone on a read, anonymous callers included', async () => {
    const s = await setUp();
    const id = s.add('Recipe', true);
    for (const user of [undefined, who(STRANGER)]) {
      for (const method of ['GET', 'HEAD']) {
        const { answer, request } = s.check('recipe', user, { id }, method);
        await expect(answer).resolves.toBe(true);
        expect(request.ownedResource).toMatchObject({ id });
      }
    }
    expect(s.reads).toHaveLength(4);
  });

  it('answers 404 for a private document to anyone but its owner and admins, on every method', async () => {
    const s = await setUp();
    const id = s.add('Recipe', false);
    for (const method of ['GET', ...WRITES]) {
      for (const user of [undefined, who(STRANGER)]) {
        const { answer, request } = s.check('recipe', user, { id }, method);
        await expect(answer).rejects.toBeInstanceOf(NotFoundException);
        expect(request.ownedResource).toBeUndefined();
      }
    }
  });

  it('tells an anonymous caller a private document from a missing one by nothing (404 both)', async () => {
    const s = await setUp();
    const hidden = s.check('recipe', undefined, { id: s.add('Recipe', false) });
    const missing = s.check('recipe', undefined, { id: new Types.ObjectId().toString() });
    const [a, b] = await Promise.allSettled([hidden.answer, missing.answer]);
    expect(a).toEqual(b);
    expect(a.status).toBe('rejected');
  });

  it('refuses a change to a public document by another user with 403, by nobody with 401', async () => {
    const s = await setUp();
    const id = s.add('Recipe', true);
    for (const method of WRITES) {
      await expect(s.check('recipe', who(STRANGER), { id }, method).answer).rejects.toBeInstanceOf(
        ForbiddenException,
      );
      await expect(s.check('recipe', undefined, { id }, method).answer).rejects.toBeInstanceOf(
        UnauthorizedException,
      );
    }
  });

  it('lets the owner and admins read and change private documents', async () => {
    const s = await setUp();
    const id = s.add('Recipe', false);
    for (const method of ['GET', ...WRITES]) {
      for (const user of [who(OWNER), who(ADMIN, Role.Admin)]) {
        const { answer, request } = s.check('recipe', user, { id }, method);
        await expect(answer).resolves.toBe(true);
        expect(request.ownedResource).toMatchObject({ id });
      }
    }
  });

  it('still answers 400 for a bad id and 404 for a missing one, without a user', async () => {
    const s = await setUp();
    await expect(s.check('recipe', undefined, { id: 'nope' }).answer).rejects.toBeInstanceOf(
      BadRequestException,
    );
    expect(s.reads).toEqual([]);
    await expect(
      s.check('recipe', undefined, { id: new Types.ObjectId().toString() }).answer,
    ).rejects.toBeInstanceOf(NotFoundException);
  });

  it('asks a predicate with the document and the caller', async () => {
    const s = await setUp();
    const id = s.add('Recipe', true);
    await expect(s.check('membersOnly', who(STRANGER), { id }).answer).resolves.toBe(true);
    await expect(s.check('membersOnly', undefined, { id }).answer).rejects.toBeInstanceOf(
      NotFoundException,
    );
  });
});

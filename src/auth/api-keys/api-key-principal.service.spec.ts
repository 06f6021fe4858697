import { createHash } from 'node:crypto';

import { Types } from 'mongoose';

import type { UserLifecycle, UserLifecycleListener } from '../accounts/user-lifecycle.service.js';
import type { AuthUserRecord, UsersService } from '../accounts/users.service.js';
import type { AuditRecorder } from '../audit/audit-recorder.service.js';
import type { AuthModuleOptions } from '../auth.options.js';
import { Role } from '../core/roles.js';
import type { ApiKeyScope } from '../core/scopes.js';
import type { LoginThrottleService } from '../throttling/login-throttle.service.js';
import { generateApiKey } from './api-key-format.js';
import { ApiKeyPrincipal } from './api-key-principal.service.js';
import type { ApiKeysService, StoredApiKey } from './api-keys.service.js';

const CLIENT = { ip: '203.0.113.7', userAgent: 'spec' };
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** A promise settled from outside. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

/**
 * ApiKeyPrincipal over stubs: keys found at once, the owner's reads held until the test lets
 * them answer (with the record as it was when the read was made).
 */
function setUp() {
  const userId = new Types.ObjectId();
  const record: AuthUserRecord = {
    id: userId.toString(),
    email: 'owner@example.com',
    name: 'Owner',
    role: Role.Admin,
    active: true,
    emailVerified: true,
    createdAt: new Date(),
    updatedAt: new Date(),
    passwordChangedAt: null,
    credentialVersion: null,
  };
  const stored = new Map<string, StoredApiKey>();
  const newKey = (scopes: ApiKeyScope[]) => {
    const { id, key } = generateApiKey();
    stored.set(id, {
      _id: id,
      user: userId,
      scopes,
      digest: 'stub',
      expiresAt: new Date(Date.now() + 3600_000),
      lastUsedAt: null,
      usedFrom: [],
    });
    return key;
  };
  const heldReads: { resolve: (user: AuthUserRecord) => void; snapshot: AuthUserRecord }[] = [];
  let holdReads = true;
  let reads = 0;
  const keys = {
    find: (id: string) => Promise.resolve(stored.get(id) ?? null),
    matches: () => true,
    onRevoked: () => undefined,
    touch: () => Promise.resolve(),
  };
  const users = {
    findById: (): Promise<AuthUserRecord> => {
      reads++;
      if (!holdReads) return Promise.resolve({ ...record });
      const read = deferred<AuthUserRecord>();
      heldReads.push({ resolve: read.resolve, snapshot: { ...record } });
      return read.promise;
    },
  };
  const listeners: UserLifecycleListener[] = [];
  const lifecycle = { register: (listener: UserLifecycleListener) => listeners.push(listener) };
  const principal = new ApiKeyPrincipal(
    keys as unknown as ApiKeysService,
    users as unknown as UsersService,
    lifecycle as unknown as UserLifecycle,
    {} as LoginThrottleService,
    { record: () => undefined } as unknown as AuditRecorder,
    { sessionCacheTtlMs: 60_000 } as AuthModuleOptions,
  );
  principal.onModuleInit();
  return {
    principal,
    record,
    newKey,
    heldReads,
    releaseReads: () => (holdReads = false),
    reads: () => reads,
    changed: async () => {
      for (const listener of listeners) await listener.userChanged?.(record.id);
    },
  };
}

describe('ApiKeyPrincipal', () => {
  it('never caches an answer read before a role change, even with two lookups in flight', async () => {
    const { principal, record, newKey, heldReads, releaseReads, changed } = setUp();
    const first = newKey(['admin', 'todos:read']);
    const second = newKey(['admin', 'todos:read']);
    // Two keys of the same admin are looked up at the same time; both read the owner as admin.
    const firstUse = principal.authenticate(first, CLIENT);
    const secondUse = principal.authenticate(second, CLIENT);
    await nextTurn();
    expect(heldReads).toHaveLength(2);
    // The admin is demoted while both reads are still under way (their answers are now stale).
    record.role = Role.User;
    await changed();
    for (const read of heldReads) expect(read.snapshot.role).toBe(Role.Admin);
    heldReads[0].resolve(heldReads[0].snapshot);
    await firstUse;
    heldReads[1].resolve(heldReads[1].snapshot);
    await secondUse;
    releaseReads();
    // The next requests see the demotion on both keys: no stale answer was kept.
    for (const key of [first, second]) {
      const user = await principal.authenticate(key, CLIENT);
      expect(user.role).toBe(Role.User);
      expect(user.apiKey?.scopes).toEqual(['todos:read']);
    }
  });

  it('caches an answer read after the change', async () => {
    const { principal, newKey, releaseReads, reads, changed } = setUp();
    releaseReads();
    const key = newKey(['todos:read']);
    await changed();
    expect((await principal.authenticate(key, CLIENT)).role).toBe(Role.Admin);
    expect(reads()).toBe(1);
    // Answered from the cache: the owner is not read again.
    expect((await principal.authenticate(key, CLIENT)).role).toBe(Role.Admin);
    expect(reads()).toBe(1);
  });

  it('remembers verified keys by their SHA-256, not by the key itself', async () => {
    const { principal, newKey, releaseReads } = setUp();
    releaseReads();
    const key = newKey(['todos:read']);
    await principal.authenticate(key, CLIENT);
    const verified = Reflect.get(principal, 'verified') as Map<string, string>;
    expect([...verified.keys()]).toEqual([createHash('sha256').update(key).digest('base64url')]);
    // Answered again from what it remembered.
    expect((await principal.authenticate(key, CLIENT)).role).toBe(Role.Admin);
  });
});

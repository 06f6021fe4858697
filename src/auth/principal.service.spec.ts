import { jest } from '@jest/globals';
import { ForbiddenException, UnauthorizedException } from '@nestjs/common';
import { Test } from '@nestjs/testing';

import { fakeClockOnly } from '../../test/support/clock.js';
import type { AccessTokenPayload } from './access-token.js';
import { UserLifecycle } from './accounts/user-lifecycle.service.js';
import type { AuthUserRecord } from './accounts/users.service.js';
import { UsersService } from './accounts/users.service.js';
import { AUTH_OPTIONS } from './auth.options.js';
import { PrincipalService } from './principal.service.js';
import { newSessionId } from './sessions/session.schema.js';
import { SessionsService } from './sessions/sessions.service.js';

type RevokedListener = (sessionIds: string[] | 'all', userId: string) => void;

const USER_ID = '0123456789abcdef01234567';

const user: AuthUserRecord = {
  id: USER_ID,
  email: 'a@example.com',
  name: 'A',
  role: 'user' as AuthUserRecord['role'],
  active: true,
  emailVerified: true,
  createdAt: new Date(0),
  updatedAt: new Date(0),
  passwordChangedAt: null,
  credentialVersion: null,
};

/**
 * Stubbed users and sessions whose database answers the test releases by hand, so a revocation
 * can land while a lookup is in flight (read before the revocation, stored after it).
 */
function setUp() {
  let sessionOpen = true;
  let release: () => void = () => undefined;
  let gate: Promise<void> | null = null;
  /** The next lookup waits until `releaseLookup()`. */
  const holdNextLookup = () => {
    gate = new Promise<void>((resolve) => (release = resolve));
  };
  const waitGate = async () => {
    const current = gate;
    gate = null;
    if (current) await current;
  };
  let revoked: RevokedListener = () => undefined;
  const sessions = {
    onRevoked: (listener: RevokedListener) => (revoked = listener),
    // The session is read when the lookup starts (before the revocation), answered later.
    isActive: async () => {
      const open = sessionOpen;
      await waitGate();
      return open;
    },
    openSession: async () => {
      const open = sessionOpen;
      await waitGate();
      return open ? { endsAt: new Date(Date.now() + 3600_000), credential: null } : null;
    },
    touch: () => Promise.resolve(),
  };
  const users = { findById: () => Promise.resolve({ ...user }) };
  const lifecycle = new UserLifecycle();
  const principals = new PrincipalService(
    users as unknown as UsersService,
    sessions as unknown as SessionsService,
    lifecycle,
    { jwt: { issuer: 'i', audience: 'a' }, sessionCacheTtlMs: 60_000 },
  );
  principals.onModuleInit();
  const sid = newSessionId();
  const now = Math.floor(Date.now() / 1000);
  const payload: AccessTokenPayload = {
    sub: USER_ID,
    sid,
    iat: now,
    exp: now + 900,
    iss: 'i',
    aud: 'a',
  };
  return {
    principals,
    payload,
    lifecycle,
    holdNextLookup,
    releaseLookup: () => release(),
    /** What the database says once the session is ended. */
    endSession: () => (sessionOpen = false),
    revoke: (ids: string[] | 'all') => revoked(ids, USER_ID),
  };
}

describe('PrincipalService cache and concurrent revocation', () => {
  it('control: a valid session is cached, an evicted one is read again', async () => {
    const s = setUp();
    await expect(s.principals.resolve(s.payload)).resolves.toMatchObject({ id: USER_ID });
    s.endSession();
    // Cached: the database is not asked again within the TTL.
    await expect(s.principals.resolve(s.payload)).resolves.toMatchObject({ id: USER_ID });
    s.revoke([s.payload.sid]);
    await expect(s.principals.resolve(s.payload)).rejects.toBeInstanceOf(UnauthorizedException);
  });

  it.each([
    ['the session is revoked', (s: ReturnType<typeof setUp>) => s.revoke([s.payload.sid])],
    ['all sessions of the user are revoked', (s: ReturnType<typeof setUp>) => s.revoke('all')],
    ['the user changes (lifecycle)', (s: ReturnType<typeof setUp>) => s.lifecycle.changed(USER_ID)],
  ])('does not store a lookup answer read before %s and completed after', async (_label, evict) => {
    const s = setUp();
    s.holdNextLookup();
    const inFlight = s.principals.resolve(s.payload); // reads "open", then waits
    s.endSession();
    await Promise.resolve(evict(s));
    s.releaseLookup();
    // The request that started before the logout may still pass…
    await inFlight;
    // …but its stale answer must not be cached: the next request reads the ended session.
    await expect(s.principals.resolve(s.payload)).rejects.toBeInstanceOf(UnauthorizedException);
  });

  it('still caches lookups that start after an eviction', async () => {
    const s = setUp();
    s.revoke([s.payload.sid]);
    await expect(s.principals.resolve(s.payload)).resolves.toMatchObject({ id: USER_ID });
    s.endSession();
    await expect(s.principals.resolve(s.payload)).resolves.toMatchObject({ id: USER_ID });
  });
});

/**
 * The cache through a Nest testing module: stubbed users and sessions that count their reads,
 * the real UserLifecycle (the channel users changes arrive through).
 */
describe('PrincipalService session cache', () => {
  const TTL_MS = 5000;

  async function cacheSetUp() {
    const state = {
      user: { ...user },
      sessionOpen: true,
      /** The credential version the session was opened with. */
      sessionCredential: null as string | null,
      userReads: 0,
      sessionReads: 0,
    };
    let revoked: RevokedListener = () => undefined;
    const users = {
      findById: () => {
        state.userReads++;
        return Promise.resolve({ ...state.user });
      },
    };
    const sessions = {
      onRevoked: (listener: RevokedListener) => (revoked = listener),
      openSession: () => {
        state.sessionReads++;
        return Promise.resolve(
          state.sessionOpen
            ? { endsAt: new Date(Date.now() + 3600_000), credential: state.sessionCredential }
            : null,
        );
      },
      touch: () => Promise.resolve(),
    };
    const moduleRef = await Test.createTestingModule({
      providers: [
        PrincipalService,
        UserLifecycle,
        { provide: UsersService, useValue: users },
        { provide: SessionsService, useValue: sessions },
        {
          provide: AUTH_OPTIONS,
          useValue: { jwt: { issuer: 'i', audience: 'a' }, sessionCacheTtlMs: TTL_MS },
        },
      ],
    }).compile();
    await moduleRef.init();
    const now = Math.floor(Date.now() / 1000);
    const payload: AccessTokenPayload = {
      sub: USER_ID,
      sid: newSessionId(),
      iat: now,
      exp: now + 900,
      iss: 'i',
      aud: 'a',
    };
    return {
      principals: moduleRef.get(PrincipalService),
      lifecycle: moduleRef.get(UserLifecycle),
      state,
      payload,
      revoke: (ids: string[] | 'all') => revoked(ids, USER_ID),
    };
  }

  beforeEach(() => {
    // Only the clock is fake: the cache reads Date.now().
    fakeClockOnly();
  });
  afterEach(() => jest.useRealTimers());

  it('answers from the cache within the TTL without reading users or sessions again', async () => {
    const s = await cacheSetUp();
    await s.principals.resolve(s.payload);
    s.state.sessionOpen = false;
    jest.advanceTimersByTime(TTL_MS - 1);
    await expect(s.principals.resolve(s.payload)).resolves.toMatchObject({ id: USER_ID });
    expect([s.state.userReads, s.state.sessionReads]).toEqual([1, 1]);
  });

  it('reads again once the TTL has passed', async () => {
    const s = await cacheSetUp();
    await s.principals.resolve(s.payload);
    s.state.sessionOpen = false;
    jest.advanceTimersByTime(TTL_MS);
    await expect(s.principals.resolve(s.payload)).rejects.toBeInstanceOf(UnauthorizedException);
    expect([s.state.userReads, s.state.sessionReads]).toEqual([2, 2]);
  });

  it('evicts the session on logout (its revocation), not the other sessions', async () => {
    const s = await cacheSetUp();
    const otherSession = { ...s.payload, sid: newSessionId() };
    await s.principals.resolve(s.payload);
    await s.principals.resolve(otherSession);
    s.state.sessionOpen = false;
    s.revoke([s.payload.sid]);
    await expect(s.principals.resolve(s.payload)).rejects.toBeInstanceOf(UnauthorizedException);
    await expect(s.principals.resolve(otherSession)).resolves.toMatchObject({ id: USER_ID });
  });

  it('evicts every session of the user on a password change', async () => {
    const s = await cacheSetUp();
    await s.principals.resolve(s.payload);
    // The password changed a second after the token was issued: the token is now too old.
    jest.advanceTimersByTime(1000);
    s.state.user = { ...s.state.user, passwordChangedAt: new Date(Date.now()) };
    await s.lifecycle.changed(USER_ID);
    await expect(s.principals.resolve(s.payload)).rejects.toBeInstanceOf(UnauthorizedException);
  });

  it('evicts the user when the account is disabled (403 from then on)', async () => {
    const s = await cacheSetUp();
    await s.principals.resolve(s.payload);
    s.state.user = { ...s.state.user, active: false };
    await s.lifecycle.disabled(USER_ID);
    await expect(s.principals.resolve(s.payload)).rejects.toBeInstanceOf(ForbiddenException);
  });

  it('evicts every session of the user when all are revoked', async () => {
    const s = await cacheSetUp();
    await s.principals.resolve(s.payload);
    s.state.sessionOpen = false;
    s.revoke('all');
    await expect(s.principals.resolve(s.payload)).rejects.toBeInstanceOf(UnauthorizedException);
  });

  it("refuses a session opened with a credential that is no longer the account's", async () => {
    const s = await cacheSetUp();
    s.state.user = { ...s.state.user, credentialVersion: 'v2' };
    // A login that checked the old password (v1) and opened its session after the change.
    s.state.sessionCredential = 'v1';
    await expect(s.principals.resolve(s.payload)).rejects.toBeInstanceOf(UnauthorizedException);
  });

  it('accepts a session of the current credential, also when neither has one (older data)', async () => {
    const s = await cacheSetUp();
    await expect(s.principals.resolve(s.payload)).resolves.toMatchObject({ id: USER_ID });
    const t = await cacheSetUp();
    t.state.user = { ...t.state.user, credentialVersion: 'v2' };
    t.state.sessionCredential = 'v2';
    const resolved = await t.principals.resolve(t.payload);
    expect(resolved).toMatchObject({ id: USER_ID });
    // The version stays inside the kit: it is not part of the request's user.
    expect(resolved).not.toHaveProperty('credentialVersion');
    expect(resolved).not.toHaveProperty('passwordChangedAt');
  });

  it('refuses a cached session once a password change on this instance changes the credential', async () => {
    const s = await cacheSetUp();
    s.state.sessionCredential = null;
    await s.principals.resolve(s.payload);
    s.state.user = { ...s.state.user, credentialVersion: 'v2' };
    await s.lifecycle.changed(USER_ID);
    await expect(s.principals.resolve(s.payload)).rejects.toBeInstanceOf(UnauthorizedException);
  });
});

import {
  ForbiddenException,
  Inject,
  Injectable,
  OnModuleInit,
  UnauthorizedException,
} from '@nestjs/common';

import type { AccessTokenPayload } from './access-token.js';
import { UserLifecycle } from './accounts/user-lifecycle.service.js';
import type { AuthUserRecord } from './accounts/users.service.js';
import { UsersService } from './accounts/users.service.js';
import type { AuthModuleOptions } from './auth.options.js';
import { AUTH_OPTIONS } from './auth.options.js';
import type { AuthUser } from './core/auth-user.js';
import { authUser } from './core/auth-user.js';
import { SESSION_ID_PATTERN } from './sessions/session.schema.js';
import { SessionsService } from './sessions/sessions.service.js';
import { OBJECT_ID_PATTERN } from './shared/pipes/parse-object-id.pipe.js';

interface CacheEntry {
  expiresAt: number;
  user: AuthUserRecord | null;
  /** The session's absolute end (ms) when it was open at lookup time, else null. */
  sessionEndsAt: number | null;
  /** The credential version the session was opened with (see SessionsService.create). */
  sessionCredential: string | null;
}

const MAX_CACHE_ENTRIES = 10_000;
/** Beyond this many remembered evictions, lookups older than the newest one are not stored. */
const MAX_EVICTION_MARKS = 10_000;

/**
 * Turns a verified access token into the user for this request, re-checking account and session:
 * deleted user, ended session, session opened with a password that is no longer the account's,
 * or token older than the last password change → 401; disabled → 403.
 * Answers are cached per session for `sessionCacheTtlMs` (default 5 s): revocation reaches every
 * instance within that time, and this instance at once (it evicts on its own changes).
 *
 * A lookup in flight while its key is evicted must not store its (possibly stale) answer after
 * the eviction, or a logged-out session would live on here for the TTL. Every eviction bumps a
 * generation and marks the key (or user) with it; a lookup stores only when no mark on its key or
 * user is newer than the generation it started at.
 */
@Injectable()
export class PrincipalService implements OnModuleInit {
  private readonly ttlMs: number;
  /** Keyed by `<userId>:<sessionId>`; Map order makes the first key the oldest. */
  private readonly cache = new Map<string, CacheEntry>();
  private generation = 0;
  /** Generation of the latest eviction per cache key and per user id. */
  private readonly keyEvictions = new Map<string, number>();
  private readonly userEvictions = new Map<string, number>();
  /** Lookups started before this generation are never stored (marks were dropped to bound memory). */
  private storeFloor = 0;
  private lookupsInFlight = 0;
  /** Lookups in flight by cache key. */
  private readonly running = new Map<string, Promise<Omit<CacheEntry, 'expiresAt'>>>();

  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly lifecycle: UserLifecycle,
    @Inject(AUTH_OPTIONS) options: AuthModuleOptions,
  ) {
    this.ttlMs = options.sessionCacheTtlMs ?? 5000;
  }

  onModuleInit(): void {
    this.lifecycle.register({
      userChanged: (userId) => this.evictUser(userId),
      // Another instance may trust a deleted user this long: its late writes are swept after it.
      cachesUsersForMs: this.ttlMs,
    });
    this.sessions.onRevoked((sessionIds, userId) =>
      sessionIds === 'all'
        ? this.evictUser(userId)
        : sessionIds.forEach((id) => this.evictKey(`${userId}:${id}`)),
    );
  }

  resolve(payload: AccessTokenPayload): Promise<AuthUser> {
    const { sub, sid } = payload;
    if (typeof sub !== 'string' || !OBJECT_ID_PATTERN.test(sub)) throw new UnauthorizedException();
    if (typeof sid !== 'string' || !SESSION_ID_PATTERN.test(sid)) throw new UnauthorizedException();
    // A cached answer is used without awaiting anything: most requests of a session end here.
    const cached = this.cache.get(`${sub}:${sid}`);
    if (cached && cached.expiresAt > Date.now()) return this.principal(cached, payload, sid);
    return this.lookup(sub, sid).then((entry) => this.principal(entry, payload, sid));
  }

  /** The checks of every request, on a cached or fresh lookup; then the request's user. */
  private principal(
    entry: Omit<CacheEntry, 'expiresAt'>,
    payload: AccessTokenPayload,
    sid: string,
  ): Promise<AuthUser> {
    const { user, sessionEndsAt, sessionCredential } = entry;
    if (!user) throw new UnauthorizedException();
    // A disabled account is told so (403) even though disabling also ended its sessions.
    if (!user.active) throw new ForbiddenException('This account is disabled');
    // The absolute end is checked on every request, cached or not: the cache never extends it.
    if (sessionEndsAt === null || sessionEndsAt <= Date.now()) throw new UnauthorizedException();
    // Opened by a login that checked a password since changed (it raced the change): refused.
    if (sessionCredential !== user.credentialVersion) throw new UnauthorizedException();
    if (user.passwordChangedAt && payload.iat * 1000 < user.passwordChangedAt.getTime()) {
      throw new UnauthorizedException();
    }
    const { auth_time: authTime, amr } = payload;
    const principal = authUser(user, {
      sessionId: sid,
      authTime: authTime === undefined ? undefined : authTime * 1000,
      amr: authTime === undefined ? undefined : amr,
    });
    const touching = this.sessions.touch(sid);
    return touching ? touching.then(() => principal) : Promise.resolve(principal);
  }

  private async lookup(userId: string, sessionId: string): Promise<Omit<CacheEntry, 'expiresAt'>> {
    const now = Date.now();
    const key = `${userId}:${sessionId}`;
    const cached = this.cache.get(key);
    if (cached && cached.expiresAt > now) return cached;
    // Concurrent requests of one session share one lookup (an eviction drops it from here).
    const running = this.running.get(key);
    if (running) return running;
    const lookup = this.load(key, userId, sessionId, now);
    this.running.set(key, lookup);
    try {
      return await lookup;
    } finally {
      if (this.running.get(key) === lookup) this.running.delete(key);
    }
  }

  private async load(
    key: string,
    userId: string,
    sessionId: string,
    now: number,
  ): Promise<Omit<CacheEntry, 'expiresAt'>> {
    const startedAt = this.generation;
    this.lookupsInFlight++;
    let answer: Omit<CacheEntry, 'expiresAt'>;
    try {
      const [user, session] = await Promise.all([
        this.users.findById(userId),
        this.sessions.openSession(sessionId, userId),
      ]);
      answer = {
        user,
        sessionEndsAt: session?.endsAt.getTime() ?? null,
        sessionCredential: session?.credential ?? null,
      };
    } finally {
      this.lookupsInFlight--;
    }
    if (this.ttlMs > 0 && !this.evictedSince(startedAt, key, userId)) {
      if (this.cache.size >= MAX_CACHE_ENTRIES) {
        const oldest = this.cache.keys().next();
        if (!oldest.done) this.cache.delete(oldest.value);
      }
      this.cache.set(key, { expiresAt: now + this.ttlMs, ...answer });
    }
    // Marks only matter to lookups in flight; with none left they can all go.
    if (this.lookupsInFlight === 0) this.forgetEvictions(false);
    return answer;
  }

  private evictedSince(generation: number, key: string, userId: string): boolean {
    return (
      generation < this.storeFloor ||
      (this.keyEvictions.get(key) ?? 0) > generation ||
      (this.userEvictions.get(userId) ?? 0) > generation
    );
  }

  private evictKey(key: string): void {
    this.cache.delete(key);
    this.running.delete(key);
    this.keyEvictions.set(key, ++this.generation);
    this.boundEvictionMarks();
  }

  private evictUser(userId: string): void {
    for (const key of this.cache.keys()) {
      if (key.startsWith(`${userId}:`)) this.cache.delete(key);
    }
    for (const key of this.running.keys()) {
      if (key.startsWith(`${userId}:`)) this.running.delete(key);
    }
    this.userEvictions.set(userId, ++this.generation);
    this.boundEvictionMarks();
  }

  private boundEvictionMarks(): void {
    if (this.lookupsInFlight === 0) this.forgetEvictions(false);
    else if (this.keyEvictions.size + this.userEvictions.size > MAX_EVICTION_MARKS) {
      this.forgetEvictions(true);
    }
  }

  /** Drops the marks; `raiseFloor` keeps lookups in flight from storing what the marks guarded. */
  private forgetEvictions(raiseFloor: boolean): void {
    if (raiseFloor) this.storeFloor = this.generation;
    this.keyEvictions.clear();
    this.userEvictions.clear();
  }
}

import {
  ForbiddenException,
  Inject,
  Injectable,
  OnModuleInit,
  UnauthorizedException,
} from '@nestjs/common';
import { OBJECT_ID_PATTERN } from '../common/pipes/parse-object-id.pipe.js';
import { UserLifecycle } from '../users/user-lifecycle.service.js';
import { UsersService } from '../users/users.service.js';
import type { AuthUserRecord } from '../users/users.service.js';
import type { AuthModuleOptions } from './auth.options.js';
import { AUTH_OPTIONS } from './auth.options.js';
import type { AuthUser } from './auth-user.js';
import { SessionsService } from './sessions/sessions.service.js';

export interface AccessTokenPayload {
  sub: string;
  sid: string;
  iat: number;
  exp: number;
  iss: string;
  aud: string;
}

interface CacheEntry {
  expiresAt: number;
  user: AuthUserRecord | null;
  sessionActive: boolean;
}

const MAX_CACHE_ENTRIES = 10_000;

/**
 * Turns a verified access token into the user for this request, re-checking account and session:
 * deleted user, ended session or token older than the last password change → 401; disabled → 403.
 * Answers are cached per session for `sessionCacheTtlMs` (default 5 s): revocation reaches every
 * instance within that time, and this instance at once (it evicts on its own changes).
 */
@Injectable()
export class PrincipalService implements OnModuleInit {
  private readonly ttlMs: number;
  /** Keyed by `<userId>:<sessionId>`; Map order makes the first key the oldest. */
  private readonly cache = new Map<string, CacheEntry>();

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
        : sessionIds.forEach((id) => this.cache.delete(`${userId}:${id}`)),
    );
  }

  async resolve(payload: AccessTokenPayload): Promise<AuthUser> {
    const { sub, sid } = payload;
    if (typeof sub !== 'string' || !OBJECT_ID_PATTERN.test(sub)) throw new UnauthorizedException();
    if (typeof sid !== 'string' || !OBJECT_ID_PATTERN.test(sid)) throw new UnauthorizedException();
    const { user, sessionActive } = await this.lookup(sub, sid);
    if (!user) throw new UnauthorizedException();
    // A disabled account is told so (403) even though disabling also ended its sessions.
    if (!user.active) throw new ForbiddenException('This account is disabled');
    if (!sessionActive) throw new UnauthorizedException();
    if (user.passwordChangedAt && payload.iat * 1000 < user.passwordChangedAt.getTime()) {
      throw new UnauthorizedException();
    }
    const { passwordChangedAt: _ignored, ...authUser } = user;
    return { ...authUser, sessionId: sid };
  }

  private async lookup(userId: string, sessionId: string): Promise<Omit<CacheEntry, 'expiresAt'>> {
    const now = Date.now();
    const key = `${userId}:${sessionId}`;
    const cached = this.cache.get(key);
    if (cached && cached.expiresAt > now) return cached;
    const [user, sessionActive] = await Promise.all([
      this.users.findById(userId),
      this.sessions.isActive(sessionId, userId),
    ]);
    if (this.ttlMs > 0) {
      if (this.cache.size >= MAX_CACHE_ENTRIES) {
        const oldest = this.cache.keys().next();
        if (!oldest.done) this.cache.delete(oldest.value);
      }
      this.cache.set(key, { expiresAt: now + this.ttlMs, user, sessionActive });
    }
    return { user, sessionActive };
  }

  private evictUser(userId: string): void {
    for (const key of this.cache.keys()) {
      if (key.startsWith(`${userId}:`)) this.cache.delete(key);
    }
  }
}

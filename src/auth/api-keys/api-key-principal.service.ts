import { hash } from 'node:crypto';

import { Inject, Injectable, OnModuleInit, UnauthorizedException } from '@nestjs/common';

import { UserLifecycle } from '../accounts/user-lifecycle.service.js';
import type { AuthUserRecord } from '../accounts/users.service.js';
import { UsersService } from '../accounts/users.service.js';
import { AuditRecorder } from '../audit/audit-recorder.service.js';
import type { AuthModuleOptions } from '../auth.options.js';
import { AUTH_OPTIONS } from '../auth.options.js';
import type { ApiKeyAuth, AuthUser } from '../core/auth-user.js';
import { authUser } from '../core/auth-user.js';
import type { ClientInfo } from '../core/client-info.js';
import { scopeAllowedFor } from '../core/scopes.js';
import {
  LoginThrottleService,
  TooManyLoginAttemptsException,
} from '../throttling/login-throttle.service.js';
import { parseApiKey } from './api-key-format.js';
import type { StoredApiKey } from './api-keys.service.js';
import { ApiKeysService } from './api-keys.service.js';
import { KeyRateLimiter, localRateLimitCounter } from './key-rate-limiter.js';

/** A usable key and the user it makes, built once per lookup. */
interface KeyPrincipal {
  key: StoredApiKey;
  /** The owner as requests see it, with the key's scopes the owner's role allows. */
  user: AuthUser;
}

interface CacheEntry {
  expiresAt: number;
  key: StoredApiKey | null;
  /** Null when the key is unknown or its owner deleted or disabled. */
  principal: KeyPrincipal | null;
  /** The key's own expiry (ms), checked on every request. */
  keyExpiresAt: number;
}

/** The "account" a failed attempt on a key id is counted on in the login throttle. */
const failureAccount = (keyId: string): string => `api-key:${keyId}`;
const MAX_CACHE_ENTRIES = 10_000;
/** `lastUsedAt` is written at most this often. */
const LAST_USED_EVERY_MS = 60_000;
/** Addresses remembered per key for the "used from a new address" event. */
const MAX_ADDRESSES = 10;

/**
 * What a verified key is remembered by: its SHA-256, so the key itself is not kept in memory
 * (one-shot `hash`: a third of createHash's cost, which was 3% of a key's request).
 */
const fingerprint = (credential: string): string => hash('sha256', credential, 'base64url');

function principalOf(key: StoredApiKey, record: AuthUserRecord): KeyPrincipal {
  const apiKey: ApiKeyAuth = {
    id: key._id,
    // Never more than the owner: a scope the owner's role may not hold is dropped.
    scopes: key.scopes.filter((scope) => scopeAllowedFor(scope, record.role)),
  };
  return { key, user: authUser(record, { apiKey }) };
}

/**
 * Turns `Authorization: Bearer gdk_…` into the request's user, the way PrincipalService does for
 * access tokens: a malformed key or a wrong checksum is refused before any I/O; the key and its
 * owner are loaded once per `sessionCacheTtlMs` (revocation and account changes evict at once
 * here, other instances within that time); every request checks the secret's HMAC, the expiry,
 * the owner's state and the per-key rate limit. Failed attempts count against the client's
 * per-IP login limit.
 */
@Injectable()
export class ApiKeyPrincipal implements OnModuleInit {
  private readonly ttlMs: number;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly running = new Map<string, Promise<Omit<CacheEntry, 'expiresAt'>>>();
  /**
   * Loads in flight (not `running.size`: evictions empty that map while loads still run). The
   * eviction marks are dropped only when none is left that started before them.
   */
  private loading = 0;
  /** Bumped by every eviction: a lookup started before one never stores its (stale) answer. */
  private generation = 0;
  private readonly evictedAt = new Map<string, number>();
  /** Lookups started before this generation never store (marks were dropped to bound memory). */
  private storeFloor = 0;
  /**
   * `<ip> <key id>` pairs the login throttle refused, until when: refused again without a
   * database read.
   */
  private readonly blocked = new Map<string, number>();
  private readonly limiter: KeyRateLimiter;
  private readonly lastWritten = new Map<string, number>();
  /**
   * Keys verified on this instance (by the SHA-256 of the full credential, not the credential
   * itself), to their id: a fresh cache entry then answers them without parsing or checking the
   * HMAC again. In memory only, like JwtStrategy's verified tokens.
   */
  private readonly verified = new Map<string, string>();

  constructor(
    private readonly keys: ApiKeysService,
    private readonly users: UsersService,
    private readonly lifecycle: UserLifecycle,
    private readonly throttle: LoginThrottleService,
    private readonly audit: AuditRecorder,
    @Inject(AUTH_OPTIONS) options: AuthModuleOptions,
  ) {
    this.ttlMs = options.sessionCacheTtlMs ?? 5000;
    this.limiter = new KeyRateLimiter(
      options.apiKeys?.rateLimitCounter ?? localRateLimitCounter(),
      options.apiKeys?.rateLimit ?? 600,
    );
  }

  onModuleInit(): void {
    this.lifecycle.register({
      userChanged: (userId) => this.evictUser(userId),
      cachesUsersForMs: this.ttlMs,
    });
    this.keys.onRevoked((ids, userId) =>
      ids === 'all' ? this.evictUser(userId) : ids.forEach((id) => this.evict(id)),
    );
  }

  /**
   * The request's user for this key. A key verified before on this instance, whose cache entry
   * is fresh, is answered without parsing or hashing it again (as JwtStrategy remembers verified
   * tokens), and without awaiting anything unless the per-key limit needs a new share.
   */
  authenticate(credential: string, client: ClientInfo): Promise<AuthUser> {
    const print = fingerprint(credential);
    const knownId = this.verified.get(print);
    const cached = knownId === undefined ? undefined : this.cache.get(knownId);
    const now = Date.now();
    if (cached?.principal && cached.expiresAt > now && cached.keyExpiresAt > now) {
      return this.admitted(cached.principal, client);
    }
    return this.verify(credential, print, client);
  }

  private async verify(credential: string, print: string, client: ClientInfo): Promise<AuthUser> {
    const { ip } = client;
    // A typo or a forgery of the format costs nothing: no database read, nothing counted.
    const parsed = parseApiKey(credential);
    if (!parsed) throw new UnauthorizedException('Invalid API key');
    const lane = `${ip} ${parsed.id}`;
    const blockedUntil = this.blocked.get(lane);
    if (blockedUntil !== undefined) {
      if (blockedUntil > Date.now()) {
        throw new TooManyLoginAttemptsException(Math.ceil((blockedUntil - Date.now()) / 1000));
      }
      this.blocked.delete(lane);
    }
    const cached = this.cache.get(parsed.id);
    const entry = cached && cached.expiresAt > Date.now() ? cached : await this.lookup(parsed.id);
    const { key } = entry;
    if (!key || !this.keys.matches(key, parsed.secret) || key.expiresAt.getTime() <= Date.now()) {
      await this.failed(ip, parsed.id, lane);
      throw new UnauthorizedException('Invalid, revoked or expired API key');
    }
    // The owner as loaded now: deleted or disabled → the key is dead (401, not counted).
    if (!entry.principal) throw new UnauthorizedException('Invalid, revoked or expired API key');
    if (this.verified.size >= MAX_CACHE_ENTRIES) this.verified.clear();
    this.verified.set(print, key._id);
    return this.admitted(entry.principal, client);
  }

  /** Per-key limit, "last used", then a copy of the principal for this request. */
  private admitted(principal: KeyPrincipal, client: ClientInfo): Promise<AuthUser> {
    const admitting = this.limiter.admit(principal.key._id);
    this.noteUse(principal.key, principal.user.id, client);
    const user = authUser(principal.user, principal.user);
    return admitting ? admitting.then(() => user) : Promise.resolve(user);
  }

  /**
   * A failed attempt counts like a failed login on the "account" `api-key:<id>`: against the
   * client's per-IP limit over all logins and keys, and the per-client limit on that key id
   * (429 beyond either).
   */
  private async failed(ip: string, keyId: string, lane: string): Promise<void> {
    try {
      await this.throttle.countAttempt(failureAccount(keyId), ip);
    } catch (error) {
      if (error instanceof TooManyLoginAttemptsException) {
        if (this.blocked.size >= MAX_CACHE_ENTRIES) this.blocked.clear();
        this.blocked.set(lane, Date.now() + error.retryAfterSeconds * 1000);
      }
      throw error;
    }
  }

  /** `lastUsedAt` at most once a minute; a new address is written and audited at once. */
  private noteUse(key: StoredApiKey, userId: string, client: ClientInfo): void {
    const { ip } = client;
    const now = Date.now();
    const newAddress = !key.usedFrom.includes(ip);
    const last = Math.max(this.lastWritten.get(key._id) ?? 0, key.lastUsedAt?.getTime() ?? 0);
    if (!newAddress && now - last < LAST_USED_EVERY_MS) return;
    if (this.lastWritten.size >= MAX_CACHE_ENTRIES) this.lastWritten.clear();
    this.lastWritten.set(key._id, now);
    let usedFrom: string[] | undefined;
    if (newAddress) {
      usedFrom = [ip, ...key.usedFrom].slice(0, MAX_ADDRESSES);
      // The cached copy learns the address too, so the event is recorded once per instance.
      key.usedFrom = usedFrom;
      if (usedFrom.length > 1) {
        this.audit.record(
          'api_key.used_from_new_ip',
          { keyId: key._id },
          { actor: userId, subject: userId, client },
        );
      }
    }
    // Off the request path: a failed write only leaves an older "last used".
    this.keys.touch(key._id, new Date(now), usedFrom).catch(() => undefined);
  }

  private async lookup(id: string): Promise<Omit<CacheEntry, 'expiresAt'>> {
    const running = this.running.get(id);
    if (running) return running;
    const lookup = this.load(id);
    this.running.set(id, lookup);
    try {
      return await lookup;
    } finally {
      if (this.running.get(id) === lookup) this.running.delete(id);
    }
  }

  private async load(id: string): Promise<Omit<CacheEntry, 'expiresAt'>> {
    this.loading++;
    try {
      const startedAt = this.generation;
      const now = Date.now();
      const key = await this.keys.find(id);
      const user = key ? await this.users.findById(key.user.toString()) : null;
      const answer = {
        key,
        principal: key && user?.active ? principalOf(key, user) : null,
        keyExpiresAt: key?.expiresAt.getTime() ?? 0,
      };
      const evicted =
        startedAt < this.storeFloor ||
        (this.evictedAt.get(id) ?? 0) > startedAt ||
        (key !== null && (this.evictedAt.get(`user:${key.user.toString()}`) ?? 0) > startedAt);
      if (this.ttlMs > 0 && !evicted) {
        if (this.cache.size >= MAX_CACHE_ENTRIES) {
          const oldest = this.cache.keys().next();
          if (!oldest.done) this.cache.delete(oldest.value);
        }
        this.cache.set(id, { expiresAt: now + this.ttlMs, ...answer });
      }
      return answer;
    } finally {
      // The last load out: no lookup started before the marks is left to check them.
      if (--this.loading === 0) this.evictedAt.clear();
    }
  }

  private evict(id: string): void {
    this.cache.delete(id);
    this.running.delete(id);
    this.mark(id);
  }

  private mark(target: string): void {
    this.evictedAt.set(target, ++this.generation);
    if (this.evictedAt.size > MAX_CACHE_ENTRIES) {
      this.storeFloor = this.generation;
      this.evictedAt.clear();
    }
  }

  private evictUser(userId: string): void {
    for (const [id, entry] of this.cache) {
      if (entry.key?.user.toString() === userId) this.cache.delete(id);
    }
    this.running.clear();
    this.mark(`user:${userId}`);
  }
}

import { createHash, randomBytes } from 'node:crypto';

import {
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  OnModuleDestroy,
  OnModuleInit,
  UnauthorizedException,
} from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { HydratedDocument } from 'mongoose';
import { Model, trusted } from 'mongoose';

import { UserLifecycle } from '../accounts/user-lifecycle.service.js';
import { AuditRecorder, byAnonymous, byUser } from '../audit/audit-recorder.service.js';
import type { AuthModuleOptions } from '../auth.options.js';
import { AUTH_OPTIONS } from '../auth.options.js';
import type { AuthMethod } from '../core/auth-methods.js';
import type { AuthUser } from '../core/auth-user.js';
import type { ClientInfo } from '../core/client-info.js';
import type { PageDto } from '../shared/dto/paginated.dto.js';
import type { PaginationQueryDto } from '../shared/dto/pagination-query.dto.js';
import { isDuplicateKeyError } from '../shared/duplicate-key.js';
import { paginate } from '../shared/paginate.js';
import {
  RefreshToken,
  Session,
  SESSION_ID_PATTERN,
  SessionActivity,
  SessionAuthentication,
  USER_AGENT_MAX_LENGTH,
} from './session.schema.js';

/** Where a login came from, kept with its session for the session list. */
export interface SessionClient {
  ip?: string;
  userAgent?: string;
}

/** One open session as its owner (or an admin) sees it. */
export interface SessionView {
  id: string;
  createdAt: Date;
  lastUsedAt: Date;
  ip: string | null;
  userAgent: string | null;
}

/** "Last used" is written at most this often per session (and instance). */
export const SESSION_TOUCH_INTERVAL_MS = 60_000;
const MAX_TOUCH_ENTRIES = 10_000;

/** When and how a session last authenticated its user (the tokens' `auth_time` and `amr`). */
export interface SessionAuthenticationView {
  at: Date;
  methods: AuthMethod[];
}

export interface IssuedRefresh {
  sessionId: string;
  userId: string;
  refreshToken: string;
  authentication: SessionAuthenticationView;
}

/** A rotated refresh token, with the credential version its session was opened with. */
export interface RotatedRefresh extends IssuedRefresh {
  credential: string | null;
}

/** An open session: its absolute end and the credential version it was opened with. */
export interface OpenSession {
  endsAt: Date;
  credential: string | null;
}

const DAY_SECONDS = 24 * 3600;
const PURGE_INTERVAL_MS = 60 * 60 * 1000;

const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Sessions and rotating refresh tokens (opaque, 256 bits, stored only as hashes). */
@Injectable()
export class SessionsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SessionsService.name);
  private readonly refreshTtlMs: number;
  private readonly maxAgeMs: number;
  private readonly listeners = new Set<(sessionIds: string[] | 'all', userId: string) => void>();
  private readonly endAllHooks: ((userId: string) => Promise<void>)[] = [];
  private purgeTimer?: NodeJS.Timeout;
  /** Session id → when this instance last wrote its "last used"; Map order: oldest first. */
  private readonly touched = new Map<string, number>();

  constructor(
    @InjectModel(Session.name) private readonly sessions: Model<Session>,
    @InjectModel(RefreshToken.name) private readonly tokens: Model<RefreshToken>,
    @InjectModel(SessionActivity.name) private readonly activity: Model<SessionActivity>,
    @InjectModel(SessionAuthentication.name)
    private readonly authentications: Model<SessionAuthentication>,
    @Inject(AUTH_OPTIONS) options: AuthModuleOptions,
    private readonly lifecycle: UserLifecycle,
    private readonly audit: AuditRecorder,
  ) {
    this.refreshTtlMs = (options.refreshTtlSeconds ?? 7 * DAY_SECONDS) * 1000;
    const maxAgeSeconds = options.sessionMaxAgeSeconds ?? 30 * DAY_SECONDS;
    if (!(maxAgeSeconds > 0)) throw new Error('sessionMaxAgeSeconds must be a positive number');
    this.maxAgeMs = maxAgeSeconds * 1000;
  }

  async onModuleInit(): Promise<void> {
    await Promise.all([
      this.sessions.init(),
      this.tokens.init(),
      this.activity.init(),
      this.authentications.init(),
    ]);
    this.lifecycle.register({
      userDisabled: (userId) => this.revokeAllForUser(userId),
      userDeleting: (userId) => this.revokeAllForUser(userId),
    });
    // No TTL indexes on FerretDB: lookups filter on expiresAt, and this purges now and then.
    this.purgeTimer = setInterval(() => void this.purgeExpired(), PURGE_INTERVAL_MS);
    this.purgeTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.purgeTimer);
  }

  /**
   * Runs (and is awaited) whenever every session of a user ends: logout-all, a password change or
   * reset, an admin's factor reset, disable, delete. What a session-holder could have set going
   * (pending email-change and verification links) ends with them.
   */
  onEndAll(hook: (userId: string) => Promise<void>): void {
    this.endAllHooks.push(hook);
  }

  /** Called with the ended session ids (or 'all' of a user) so caches can drop them. */
  onRevoked(listener: (sessionIds: string[] | 'all', userId: string) => void): void {
    this.listeners.add(listener);
  }

  /**
   * Opens a session for a user who just authenticated with `methods` (RFC 8176 values), bound to
   * `credential`, the credential version read with the password hash the login checked
   * (User.credentialVersion): if the password changed meanwhile, the session is refused on every
   * use, even though it was created after the change ended every session.
   */
  async create(
    userId: string,
    { credential, methods }: { credential: string | null; methods: AuthMethod[] },
    client: SessionClient = {},
  ): Promise<IssuedRefresh> {
    const endsAt = new Date(Date.now() + this.maxAgeMs);
    const session = await this.sessions.create({
      user: userId,
      credential,
      methods,
      expiresAt: this.expiry(endsAt),
      endsAt,
      ...(client.ip ? { ip: client.ip } : {}),
      ...(client.userAgent ? { userAgent: client.userAgent.slice(0, USER_AGENT_MAX_LENGTH) } : {}),
    });
    const sessionId = session._id;
    const authentication = { at: session.createdAt, methods };
    const refreshToken = await this.insertToken(sessionId, userId, `session:${sessionId}`, endsAt);
    return { sessionId, userId, refreshToken, authentication };
  }

  /**
   * The session authenticated its user again (RFC 9470 step-up): its access tokens from now on
   * carry this time and these methods. Returns what was recorded.
   */
  async reauthenticated(
    sessionId: string,
    userId: string,
    methods: AuthMethod[],
  ): Promise<SessionAuthenticationView> {
    const authentication = { at: new Date(), methods };
    await this.authentications.updateOne(
      { _id: sessionId },
      { $set: { user: userId, ...authentication } },
      { upsert: true },
    );
    return authentication;
  }

  /** When and how the session last authenticated: its last re-authentication, else its login. */
  private async authenticationOf(session: Session): Promise<SessionAuthenticationView> {
    const found = await this.authentications.findById(session._id).lean();
    if (found) return { at: found.at, methods: found.methods };
    // Sessions from before `methods` was recorded were password logins.
    return { at: session.createdAt, methods: session.methods ?? ['pwd'] };
  }

  /**
   * Exchanges a refresh token for a new one. A token that already has a successor was used before:
   * the session is revoked (reuse detection), so at most one of concurrent refreshes succeeds.
   */
  async rotate(presented: string, client: ClientInfo): Promise<RotatedRefresh> {
    const token = await this.tokens.findOne({ hash: hashToken(presented) });
    if (!token || token.expiresAt.getTime() <= Date.now()) throw this.invalid();
    const sessionId = token.session;
    const userId = token.user.toString();
    const session = await this.findActive(sessionId, userId);
    if (!session) throw this.invalid();
    let refreshToken: string;
    try {
      refreshToken = await this.insertToken(
        sessionId,
        userId,
        token._id.toString(),
        session.endsAt,
      );
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      this.logger.warn(`Refresh token reuse on session ${sessionId}: session revoked`);
      await this.revoke(sessionId, userId);
      this.audit.record(
        'token.reuse_detected',
        {},
        { ...byAnonymous(userId, client), session: sessionId },
      );
      throw this.invalid();
    }
    // Slides the idle expiry, never past the absolute end fixed at login.
    await this.sessions.updateOne(
      { _id: sessionId },
      { $set: { expiresAt: this.expiry(session.endsAt) } },
    );
    // A slow request may insert its successor after reuse detection deleted the first one; the
    // session is gone by then (revoke deletes it before the tokens), so it fails here.
    if (!(await this.isActive(sessionId, userId))) {
      await this.tokens.deleteMany({ session: sessionId });
      throw this.invalid();
    }
    return {
      sessionId,
      userId,
      refreshToken,
      authentication: await this.authenticationOf(session),
      credential: session.credential ?? null,
    };
  }

  /** The session a refresh token belongs to, if the token is current and the session alive. */
  async findByToken(presented: string): Promise<{ sessionId: string; userId: string } | null> {
    const token = await this.tokens.findOne({ hash: hashToken(presented) });
    if (!token || token.expiresAt.getTime() <= Date.now()) return null;
    const ids = { sessionId: token.session, userId: token.user.toString() };
    return (await this.isActive(ids.sessionId, ids.userId)) ? ids : null;
  }

  async isActive(sessionId: string, userId: string): Promise<boolean> {
    return (await this.findActive(sessionId, userId)) !== null;
  }

  /**
   * The session's absolute end and credential when it is open now (it belongs to the user, is
   * neither idle nor past its absolute end), else null. Neither ever changes, so callers may
   * cache them.
   */
  async openSession(sessionId: string, userId: string): Promise<OpenSession | null> {
    const session = await this.findActive(sessionId, userId);
    return session ? { endsAt: session.endsAt, credential: session.credential ?? null } : null;
  }

  /**
   * The user's open sessions of the current credential (`credential`: the account's
   * credentialVersion), newest first: sessions a password change left behind are not shown.
   */
  async listForUser(
    userId: string,
    credential: string | null,
    query: PaginationQueryDto,
  ): Promise<PageDto<SessionView>> {
    const now = new Date();
    const filter = {
      user: userId,
      // null also matches sessions stored before the field existed (MongoDB and FerretDB alike).
      credential,
      expiresAt: trusted({ $gt: now }),
      endsAt: trusted({ $gt: now }),
    };
    // Keyset or page, with the same cursor rules as every other list.
    const page = await paginate(
      this.sessions,
      filter,
      query,
      { createdAt: -1, _id: -1 },
      (doc) => doc,
    );
    const docs = page.items;
    const ids = docs.map((doc) => doc._id);
    const activity = ids.length
      ? await this.activity.find({ _id: trusted({ $in: ids }) }).lean()
      : [];
    const lastUsed = new Map(activity.map((entry) => [entry._id, entry.lastUsedAt]));
    const items = docs.map((doc) => ({
      id: doc._id,
      createdAt: doc.createdAt,
      lastUsedAt: lastUsed.get(doc._id) ?? doc.createdAt,
      ip: doc.ip ?? null,
      userAgent: doc.userAgent ?? null,
    }));
    return { ...page, items };
  }

  /**
   * Records that the session was used now, at most once per SESSION_TOUCH_INTERVAL_MS per session
   * on this instance: requests in between cost a map lookup. A failed write is only logged.
   */
  touch(sessionId: string): Promise<void> | undefined {
    const now = Date.now();
    const last = this.touched.get(sessionId);
    // Requests in between cost a map lookup, and no promise.
    if (last !== undefined && now - last < SESSION_TOUCH_INTERVAL_MS) return undefined;
    this.touched.delete(sessionId);
    if (this.touched.size >= MAX_TOUCH_ENTRIES) {
      const oldest = this.touched.keys().next();
      if (!oldest.done) this.touched.delete(oldest.value);
    }
    this.touched.set(sessionId, now);
    return this.activity
      .updateOne({ _id: sessionId }, { $set: { lastUsedAt: new Date(now) } }, { upsert: true })
      .then(
        () => undefined,
        (error: unknown) =>
          this.logger.warn(`Session activity not recorded: ${(error as Error).message}`),
      );
  }

  /**
   * Ending a session deletes it (then its tokens) instead of flagging it: FerretDB updates are
   * read-modify-write, so a concurrent update of the session (a refresh sliding its expiry) could
   * write a `revokedAt` flag back to null, while no update brings a deleted document back.
   */
  async revoke(sessionId: string, userId: string): Promise<void> {
    await this.sessions.deleteOne({ _id: sessionId });
    await this.tokens.deleteMany({ session: sessionId });
    await this.activity.deleteOne({ _id: sessionId });
    await this.authentications.deleteOne({ _id: sessionId });
    this.emit([sessionId], userId);
  }

  /**
   * Ends one open session of `ownerId` from a session list, by its owner or an admin (`actor`);
   * 404 when there is no such open session of that user.
   */
  async end(
    sessionId: string,
    ownerId: string,
    actor: AuthUser,
    client: ClientInfo,
  ): Promise<void> {
    if (!(await this.isActive(sessionId, ownerId))) {
      throw new NotFoundException('Session not found');
    }
    await this.revoke(sessionId, ownerId);
    this.audit.record(
      'session.ended',
      { by: actor.id === ownerId ? 'user' : 'admin' },
      { ...byUser(actor, client, ownerId), session: sessionId },
    );
  }

  async revokeAllForUser(userId: string): Promise<void> {
    await this.sessions.deleteMany({ user: userId });
    await this.tokens.deleteMany({ user: userId });
    await this.authentications.deleteMany({ user: userId });
    this.emit('all', userId);
    for (const hook of this.endAllHooks) await hook(userId);
  }

  async purgeExpired(): Promise<void> {
    try {
      const now = new Date();
      await this.tokens.deleteMany({ expiresAt: trusted({ $lte: now }) });
      await this.sessions.deleteMany({ expiresAt: trusted({ $lte: now }) });
      // Activity of sessions ended in bulk (logout-all, disable) goes once it is older than any
      // session can live.
      await this.activity.deleteMany({
        lastUsedAt: trusted({ $lte: new Date(now.getTime() - this.maxAgeMs) }),
      });
      // A session ends at most maxAge after its login, and its login is never later than its
      // last authentication: a record older than maxAge belongs to an ended session.
      await this.authentications.deleteMany({
        at: trusted({ $lte: new Date(now.getTime() - this.maxAgeMs) }),
      });
    } catch (error) {
      this.logger.warn(`Session purge failed: ${(error as Error).message}`);
    }
  }

  private async findActive(
    sessionId: string,
    userId: string,
  ): Promise<HydratedDocument<Session> | null> {
    // Not the shape of an id we issue (a legacy ObjectId, garbage): no database round trip.
    if (!SESSION_ID_PATTERN.test(sessionId)) return null;
    const session = await this.sessions.findById(sessionId);
    const now = Date.now();
    const open =
      session !== null &&
      session.user.toString() === userId &&
      session.expiresAt.getTime() > now &&
      // A document without an absolute end predates it: treated as ended, never as endless.
      session.endsAt instanceof Date &&
      session.endsAt.getTime() > now;
    return open ? session : null;
  }

  private async insertToken(
    sessionId: string,
    userId: string,
    parent: string,
    endsAt: Date,
  ): Promise<string> {
    const refreshToken = randomBytes(32).toString('base64url');
    await this.tokens.create({
      hash: hashToken(refreshToken),
      session: sessionId,
      user: userId,
      parent,
      expiresAt: this.expiry(endsAt),
    });
    return refreshToken;
  }

  /** The refresh (idle) lifetime from now, cut at the session's absolute end. */
  private expiry(endsAt: Date): Date {
    return new Date(Math.min(Date.now() + this.refreshTtlMs, endsAt.getTime()));
  }

  private emit(sessionIds: string[] | 'all', userId: string): void {
    for (const listener of this.listeners) listener(sessionIds, userId);
  }

  private invalid(): UnauthorizedException {
    return new UnauthorizedException('Invalid or expired refresh token');
  }
}

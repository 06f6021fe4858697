import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  OnModuleInit,
} from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, trusted, Types } from 'mongoose';

import { UserLifecycle } from '../accounts/user-lifecycle.service.js';
import { AuditRecorder, byUser } from '../audit/audit-recorder.service.js';
import type { AuthModuleOptions } from '../auth.options.js';
import { AUTH_OPTIONS } from '../auth.options.js';
import type { AuthUser } from '../core/auth-user.js';
import type { ClientInfo } from '../core/client-info.js';
import { scopeAllowedFor } from '../core/scopes.js';
import { API_KEY_ID_PATTERN, API_KEY_PREFIX, generateApiKey } from './api-key-format.js';
import type { ApiKeyResponseDto, CreatedApiKeyResponseDto } from './dto/api-key-response.dto.js';
import type { CreateApiKeyDto } from './dto/create-api-key.dto.js';
import { ApiKey } from './schemas/api-key.schema.js';

const DAY_MS = 24 * 3600 * 1000;
/** Expired keys stay listed (so their owner sees why a script stopped) this long, then go. */
const EXPIRED_KEPT_MS = 30 * DAY_MS;
/** A creation checking the per-user limit holds its key `pending` at most this long (then purged). */
const PENDING_KEPT_MS = 60_000;
/** Over the limit only because of creations still checking: retried after pauses, this long. */
const FIRST_PAUSE_MS = 10;
const MAX_WAIT_MS = 3000;

/** What the request path needs of a stored key. */
export type StoredApiKey = Pick<
  ApiKey,
  '_id' | 'user' | 'scopes' | 'digest' | 'expiresAt' | 'lastUsedAt' | 'usedFrom'
>;

/** Listeners told when keys stop (revoked one by one, or all of a user's). */
type RevokedListener = (keyIds: string[] | 'all', userId: string) => void;

function toResponse(key: ApiKey): ApiKeyResponseDto {
  return {
    id: key._id,
    prefix: `${API_KEY_PREFIX}${key._id}_`,
    name: key.name,
    scopes: key.scopes,
    createdAt: key.createdAt,
    lastUsedAt: key.lastUsedAt ?? null,
    expiresAt: key.expiresAt,
  };
}

/**
 * Creating, listing and revoking API keys, and the stored side of checking one: the HMAC of a
 * key's secret under the server's key, compared in constant time. No HTTP types here.
 */
@Injectable()
export class ApiKeysService implements OnModuleInit {
  private readonly logger = new Logger(ApiKeysService.name);
  private readonly hmacKey: Buffer;
  private readonly defaultDays: number;
  private readonly maxDays: number;
  private readonly maxPerUser: number;
  private readonly revokedListeners: RevokedListener[] = [];

  constructor(
    @InjectModel(ApiKey.name) private readonly keys: Model<ApiKey>,
    private readonly lifecycle: UserLifecycle,
    private readonly audit: AuditRecorder,
    @Inject(AUTH_OPTIONS) options: AuthModuleOptions,
  ) {
    const settings = options.apiKeys ?? {};
    if (settings.hashSecret === undefined) {
      this.logger.warn(
        'apiKeys.hashSecret is not set: using a random key, so API keys stop working when the process restarts',
      );
    }
    this.hmacKey = Buffer.from(settings.hashSecret ?? randomBytes(48).toString('base64'));
    this.defaultDays = settings.defaultDays ?? 90;
    this.maxDays = settings.maxDays ?? 365;
    this.maxPerUser = settings.maxPerUser ?? 25;
  }

  onModuleInit(): void {
    this.lifecycle.register({ userDeleting: (userId) => this.deleteAllOf(userId) });
  }

  onRevoked(listener: RevokedListener): void {
    this.revokedListeners.push(listener);
  }

  /** The key, shown once; only its id and the HMAC of its secret are stored. */
  async create(
    user: AuthUser,
    dto: CreateApiKeyDto,
    client: ClientInfo,
  ): Promise<CreatedApiKeyResponseDto> {
    const refused = dto.scopes.filter((scope) => !scopeAllowedFor(scope, user.role));
    if (refused.length > 0) {
      throw new ForbiddenException(`Your account may not hold the scope ${refused.join(', ')}`);
    }
    const now = Date.now();
    const expiresAt = this.expiryOf(dto.expiresAt, now);
    const owner = new Types.ObjectId(user.id);
    await this.keys.deleteMany({ expiresAt: trusted({ $lte: new Date(now - EXPIRED_KEPT_MS) }) });
    // Left by a creation that never finished (a crash between its insert and its check).
    await this.keys.deleteMany({
      user: owner,
      pending: true,
      createdAt: trusted({ $lt: new Date(now - PENDING_KEPT_MS) }),
    });
    const { id, secret, key } = generateApiKey();
    const stored = await this.insertWithinLimit({
      _id: id,
      user: owner,
      name: dto.name,
      scopes: dto.scopes,
      digest: this.digestOf(secret),
      createdAt: new Date(now),
      expiresAt,
      lastUsedAt: null,
      usedFrom: [],
    });
    this.audit.record('api_key.created', { keyId: id, scopes: dto.scopes }, byUser(user, client));
    return { ...toResponse(stored), key };
  }

  /**
   * Inserts the key (pending), then counts the owner's keys including it; over the limit it is
   * deleted again and 409 thrown. Counting first and inserting afterwards would let parallel
   * creations all pass the count; inserting first, each sees every key inserted before it, so at
   * most `maxPerUser` are kept (as the login throttle does with attempts). Over the limit only
   * because of other creations still checking, the key is taken back and tried again after a
   * pause, so that parallel creations do not all refuse each other.
   */
  private async insertWithinLimit(document: ApiKey): Promise<ApiKey> {
    const deadline = Date.now() + MAX_WAIT_MS;
    const overLimit = () =>
      new ConflictException(
        `An account holds at most ${this.maxPerUser} API keys: revoke one first`,
      );
    for (let pause = FIRST_PAUSE_MS; ; pause *= 2) {
      await this.keys.create({ ...document, pending: true });
      let held: number;
      let settled: number;
      try {
        held = await this.keys.countDocuments({ user: document.user });
        if (held <= this.maxPerUser) {
          await this.keys.updateOne({ _id: document._id }, { $unset: { pending: 1 } });
          return document;
        }
        settled = await this.keys.countDocuments({
          user: document.user,
          pending: trusted({ $ne: true }),
        });
      } catch (error) {
        await this.keys.deleteOne({ _id: document._id });
        throw error;
      }
      await this.keys.deleteOne({ _id: document._id });
      if (settled >= this.maxPerUser) throw overLimit();
      const wait = pause * (0.5 + Math.random());
      if (Date.now() + wait > deadline) throw overLimit();
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  private expiryOf(requested: string | undefined, now: number): Date {
    const latest = now + this.maxDays * DAY_MS;
    if (requested === undefined) return new Date(now + this.defaultDays * DAY_MS);
    const at = new Date(requested).getTime();
    if (!(at > now)) throw new BadRequestException('expiresAt must be in the future');
    if (at > latest) {
      throw new BadRequestException(`expiresAt must be at most ${this.maxDays} days from now`);
    }
    return new Date(at);
  }

  /** A user's keys, newest first (expired ones too, until purged). */
  async list(userId: string): Promise<ApiKeyResponseDto[]> {
    const keys = await this.keys
      // Not one a creation is still checking against the limit (it may be taken back).
      .find({ user: new Types.ObjectId(userId), pending: trusted({ $ne: true }) })
      .sort({ createdAt: -1 })
      .lean<ApiKey[]>();
    return keys.map(toResponse);
  }

  /** Deletes one of `ownerId`'s keys (404 when it has no such key); its owner or an admin. */
  async revoke(ownerId: string, keyId: string, actor: AuthUser, client: ClientInfo): Promise<void> {
    if (!API_KEY_ID_PATTERN.test(keyId)) throw new NotFoundException('API key not found');
    const { deletedCount } = await this.keys.deleteOne({
      _id: keyId,
      user: new Types.ObjectId(ownerId),
    });
    if (deletedCount === 0) throw new NotFoundException('API key not found');
    for (const listener of this.revokedListeners) listener([keyId], ownerId);
    this.audit.record(
      'api_key.revoked',
      { keyId, by: actor.id === ownerId ? 'user' : 'admin' },
      byUser(actor, client, ownerId),
    );
  }

  private async deleteAllOf(userId: string): Promise<void> {
    await this.keys.deleteMany({ user: new Types.ObjectId(userId) });
    for (const listener of this.revokedListeners) listener('all', userId);
  }

  /** The stored key with this id (by `_id` alone), whatever its state. */
  find(id: string): Promise<StoredApiKey | null> {
    return this.keys
      .findById(id)
      .select({ user: 1, scopes: 1, digest: 1, expiresAt: 1, lastUsedAt: 1, usedFrom: 1 })
      .lean<StoredApiKey>()
      .exec();
  }

  /** Whether `secret` is the one `key` was made with (constant time). */
  matches(key: StoredApiKey, secret: string): boolean {
    const expected = Buffer.from(key.digest, 'hex');
    const actual = Buffer.from(this.digestOf(secret), 'hex');
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }

  /** Notes a use: `lastUsedAt`, and the addresses when one was new (see ApiKeyPrincipal). */
  async touch(id: string, at: Date, usedFrom?: string[]): Promise<void> {
    await this.keys.updateOne(
      { _id: id },
      { $set: { lastUsedAt: at, ...(usedFrom ? { usedFrom } : {}) } },
    );
  }

  private digestOf(secret: string): string {
    return createHmac('sha256', this.hmacKey).update(secret).digest('hex');
  }
}

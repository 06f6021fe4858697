import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { Types } from 'mongoose';
import { Schema as MongooseSchema } from 'mongoose';

import type { ApiKeyScope } from '../../core/scopes.js';

/**
 * One API key. Never the key itself: its public id (the `_id`) and an HMAC-SHA-256 of its secret
 * under the server's `hashSecret`, so a copy of the database lets nobody use a key. Revoking a
 * key deletes it. Expired keys are refused by comparing `expiresAt` and purged lazily.
 */
@Schema({ collection: 'api_keys', versionKey: false })
export class ApiKey {
  /** The key's public id (12 base62 characters, see api-key-format.ts). */
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: MongooseSchema.Types.ObjectId, required: true })
  user!: Types.ObjectId;

  @Prop({ required: true })
  name!: string;

  @Prop({ type: [String], required: true })
  scopes!: ApiKeyScope[];

  /** HMAC-SHA-256 (hex) of the secret under the server's key; compared in constant time. */
  @Prop({ required: true })
  digest!: string;

  @Prop({ required: true })
  createdAt!: Date;

  /** Always set: no key lives forever. */
  @Prop({ required: true })
  expiresAt!: Date;

  /** Written at most once a minute. */
  @Prop({ type: Date, default: null })
  lastUsedAt!: Date | null;

  /** Addresses the key was used from (the latest few): a new one is an audit event. */
  @Prop({ type: [String], default: [] })
  usedFrom!: string[];

  /**
   * Set while the creation that inserted the key checks the per-user limit (see
   * ApiKeysService.create); unset once it counts. Nobody has its secret yet.
   */
  @Prop({ type: Boolean })
  pending?: boolean;
}

export const ApiKeySchema = SchemaFactory.createForClass(ApiKey);
ApiKeySchema.index({ user: 1, createdAt: -1 });
ApiKeySchema.index({ expiresAt: 1 });

import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Injectable,
  NotFoundException,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection, Document, Model } from 'mongoose';

import type { AuthRequest, AuthUser } from '../core/auth-user.js';
import { actsAsAdmin } from '../core/auth-user.js';
import type { OwnedRule } from '../core/decorators/owned.decorator.js';
import { OWNED_KEY } from '../core/decorators/owned.decorator.js';
import { handlerMetadata } from '../core/route-metadata.js';
import { assertObjectId } from '../shared/pipes/parse-object-id.pipe.js';

const isIdLike = (value: unknown): value is { toString(): string } =>
  typeof value === 'string' ||
  (typeof value === 'object' && value !== null && '_bsontype' in value);

/** Methods that only read: a document the caller may see is served to them. */
const READS = new Set(['GET', 'HEAD']);

/**
 * Generic owner-or-admin check driven by `@Owned(...)`: loads the document once, answers 400 for
 * a bad id, 404 when missing, 403 (or 404 for private resources) when it is someone else's, and
 * leaves the document on the request for the handler. With `readableBy`, visibility is decided
 * per document: anyone (anonymous callers too) reads a visible one, nobody but its owner and
 * admins learns that an invisible one exists.
 */
@Injectable()
export class OwnershipGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @InjectConnection() private readonly connection: Connection,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const owned = handlerMetadata<OwnedRule>(this.reflector, OWNED_KEY, context);
    if (!owned) return true;
    const request = context.switchToHttp().getRequest<AuthRequest>();
    const { user } = request;
    // Without per-document visibility nothing is readable without an identity.
    if (!user && owned.readableBy === undefined) throw new UnauthorizedException();
    const id = assertObjectId(request.params[owned.param], owned.param);
    const model: Model<object> = this.connection.model<object>(owned.model);
    const document: Document | null = await model.findById(id);
    const missing = () => new NotFoundException(`${owned.model} not found`);
    if (!document) throw missing();
    if (user && (this.owns(document, owned, user) || actsAsAdmin(user))) {
      request.ownedResource = document;
      return true;
    }
    const visible = this.visible(document, owned, user);
    if (!visible) throw missing();
    if (owned.readableBy !== undefined && READS.has(request.method?.toUpperCase() ?? '')) {
      request.ownedResource = document;
      return true;
    }
    if (!user) throw new UnauthorizedException();
    throw new ForbiddenException(`Only the owner or an admin may do this`);
  }

  private owns(document: Document, owned: OwnedRule, user: AuthUser): boolean {
    const ownerId: unknown = document.get(owned.ownerField);
    return isIdLike(ownerId) && ownerId.toString() === user.id;
  }

  /** May a non-owner, non-admin caller know that this document exists? */
  private visible(document: Document, owned: OwnedRule, user: AuthUser | undefined): boolean {
    const { readableBy } = owned;
    if (readableBy === undefined) return owned.visibility === 'public';
    if (typeof readableBy === 'string') return document.get(readableBy) === true;
    return readableBy(document, user);
  }
}

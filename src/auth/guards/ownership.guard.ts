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

import type { AuthRequest } from '../core/auth-user.js';
import type { OwnedOptions } from '../core/decorators/owned.decorator.js';
import { OWNED_KEY } from '../core/decorators/owned.decorator.js';
import { Role } from '../core/roles.js';
import { assertObjectId } from '../shared/pipes/parse-object-id.pipe.js';

const isIdLike = (value: unknown): value is { toString(): string } =>
  typeof value === 'string' ||
  (typeof value === 'object' && value !== null && '_bsontype' in value);

/**
 * Generic owner-or-admin check driven by `@Owned(...)`: loads the document once, answers 400 for
 * a bad id, 404 when missing, 403 (or 404 for private resources) when it is someone else's, and
 * leaves the document on the request for the handler.
 */
@Injectable()
export class OwnershipGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @InjectConnection() private readonly connection: Connection,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const owned = this.reflector.get<Required<OwnedOptions> | undefined>(
      OWNED_KEY,
      context.getHandler(),
    );
    if (!owned) return true;
    const request = context.switchToHttp().getRequest<AuthRequest>();
    const { user } = request;
    if (!user) throw new UnauthorizedException();
    const id = assertObjectId(request.params[owned.param], owned.param);
    const model: Model<object> = this.connection.model<object>(owned.model);
    const document: Document | null = await model.findById(id);
    if (!document) throw new NotFoundException(`${owned.model} not found`);
    const ownerId: unknown = document.get(owned.ownerField);
    const isOwner = isIdLike(ownerId) && ownerId.toString() === user.id;
    if (!isOwner && user.role !== Role.Admin) {
      if (owned.visibility === 'private') throw new NotFoundException(`${owned.model} not found`);
      throw new ForbiddenException(`Only the owner or an admin may do this`);
    }
    request.ownedResource = document;
    return true;
  }
}

import {
  applyDecorators,
  createParamDecorator,
  ExecutionContext,
  SetMetadata,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiParam,
} from '@nestjs/swagger';

import type { AuthRequest } from '../auth-user.js';

export const OWNED_KEY = 'guardhouse:owned';

export interface OwnedOptions {
  /** Mongoose model name of the resource (e.g. `Movie.name`). */
  model: string;
  /** Path holding the owner's user id (an ObjectId). */
  ownerField: string;
  /** Route parameter with the resource id. Default `id`. */
  param?: string;
  /**
   * `public` (default): others get 403. `private`: others get 404, so the resource's existence
   * is not revealed.
   */
  visibility?: 'public' | 'private';
}

/**
 * Owner-or-admin access to one document. The OwnershipGuard loads it once (400 bad id, 404 missing,
 * 403/404 not yours) and hands it to the handler through `@OwnedResource()`. Every model that uses
 * this decorator is also deleted with its owner (see OwnedResources).
 */
export function Owned(options: OwnedOptions): MethodDecorator {
  const param = options.param ?? 'id';
  const hidden = options.visibility === 'private';
  return applyDecorators(
    SetMetadata(OWNED_KEY, { ...options, param, visibility: options.visibility ?? 'public' }),
    ApiParam({ name: param, description: 'ObjectId of the resource', type: String }),
    ApiBadRequestResponse({ description: 'Invalid id or body' }),
    ApiNotFoundResponse({
      description: hidden ? 'No such resource, or it belongs to someone else' : 'No such resource',
    }),
    ...(hidden
      ? []
      : [
          ApiForbiddenResponse({
            description: 'Not the owner (and not an admin), or account disabled',
          }),
        ]),
  );
}

/** The document the OwnershipGuard loaded for this request. */
export const OwnedResource = createParamDecorator(
  (_data: unknown, context: ExecutionContext): unknown =>
    context.switchToHttp().getRequest<AuthRequest>().ownedResource,
);

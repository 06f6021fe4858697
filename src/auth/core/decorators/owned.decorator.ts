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

import type { AuthRequest, AuthUser } from '../auth-user.js';

export const OWNED_KEY = 'guardhouse:owned';

/** A loaded document, as the OwnershipGuard hands it to a `readableBy` predicate. */
export interface OwnedDocument {
  get(path: string): unknown;
}

/** Whether `user` (undefined: an anonymous caller) may see `document` without owning it. */
export type ReadablePredicate = (document: OwnedDocument, user: AuthUser | undefined) => boolean;

interface OwnedTarget {
  /** Mongoose model name of the resource (e.g. `Movie.name`). */
  model: string;
  /** Path holding the owner's user id (an ObjectId). */
  ownerField: string;
  /** Route parameter with the resource id. Default `id`. */
  param?: string;
}

/** One visibility for every document of the resource. */
interface RouteVisibility {
  /**
   * `public` (default): others get 403. `private`: others get 404, so the resource's existence
   * is not revealed.
   */
  visibility?: 'public' | 'private';
  readableBy?: undefined;
}

/** Documents public or private one by one. */
interface DocumentVisibility {
  /**
   * Who may see a document without owning it: a boolean path (`'isPublic'`: documents where it is
   * `true` are visible to anyone) or a predicate. A `GET`/`HEAD` route serves a visible document
   * to any caller, anonymous ones included on `@OptionalAuth()` routes; other methods refuse a
   * non-owner with 403 for a visible document. A document the caller may not see is a 404 on
   * every method, to anonymous callers too (a 401 there would tell private ids from missing ones).
   * A path (rather than a predicate) also gives `listVisible` the filter of the matching list.
   */
  readableBy: string | ReadablePredicate;
  visibility?: undefined;
}

export type OwnedOptions = OwnedTarget & (RouteVisibility | DocumentVisibility);

/** The options as the OwnershipGuard reads them, defaults applied. */
export interface OwnedRule extends Required<OwnedTarget> {
  visibility: 'public' | 'private';
  readableBy?: string | ReadablePredicate;
}

/**
 * Owner-or-admin access to one document. The OwnershipGuard loads it once (400 bad id, 404 missing,
 * 403/404 not yours) and hands it to the handler through `@OwnedResource()`; with `readableBy`,
 * documents it accepts are readable by anyone. Every model that uses this decorator is also
 * deleted with its owner (see OwnedResources).
 */
export function Owned(options: OwnedOptions): MethodDecorator {
  const rule: OwnedRule = {
    model: options.model,
    ownerField: options.ownerField,
    param: options.param ?? 'id',
    visibility: options.visibility ?? 'public',
    readableBy: options.readableBy,
  };
  const perDocument = rule.readableBy !== undefined;
  const hidden = rule.visibility === 'private';
  return applyDecorators(
    SetMetadata(OWNED_KEY, rule),
    ApiParam({ name: rule.param, description: 'ObjectId of the resource', type: String }),
    ApiBadRequestResponse({ description: 'Invalid id or body' }),
    ApiNotFoundResponse({
      description: perDocument
        ? 'No such resource, or one you may not see'
        : hidden
          ? 'No such resource, or it belongs to someone else'
          : 'No such resource',
    }),
    ...(hidden
      ? []
      : [
          ApiForbiddenResponse({
            description: perDocument
              ? 'A change to a resource you may see but do not own (and not an admin), or account disabled'
              : 'Not the owner (and not an admin), or account disabled',
          }),
        ]),
  );
}

/** The document the OwnershipGuard loaded for this request. */
export const OwnedResource = createParamDecorator(
  (_data: unknown, context: ExecutionContext): unknown =>
    context.switchToHttp().getRequest<AuthRequest>().ownedResource,
);

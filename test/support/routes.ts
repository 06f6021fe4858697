import type { INestApplication } from '@nestjs/common';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';

import { OPTIONAL_AUTH_KEY } from '../../src/auth/core/decorators/optional-auth.decorator.js';
import type { OwnedRule } from '../../src/auth/core/decorators/owned.decorator.js';
import { OWNED_KEY } from '../../src/auth/core/decorators/owned.decorator.js';
import { IS_PUBLIC_KEY } from '../../src/auth/core/decorators/public.decorator.js';

export interface RegisteredRoute {
  /** `METHOD /api/path/:param`, as the access matrix and IDOR rows name routes. */
  route: string;
  method: string;
  /** `/api/path/:param`. */
  path: string;
  /** `@Public()` or `@OptionalAuth()`: anonymous callers get past authentication. */
  isPublic: boolean;
  /** The `@Owned(...)` rule of the route, if it has one. */
  owned?: OwnedRule;
}

/**
 * Every handler of every controller of `app`, read from Nest's metadata: what tests that must
 * cover each route (the access matrix, the IDOR sweep, the Postman check) compare against.
 */
export function registeredRoutes(app: INestApplication): RegisteredRoute[] {
  const discovery = app.get(DiscoveryService);
  const scanner = app.get(MetadataScanner);
  const routes: RegisteredRoute[] = [];
  for (const wrapper of discovery.getControllers()) {
    const { metatype, instance } = wrapper;
    if (!metatype || !instance) continue;
    const base = String(Reflect.getMetadata(PATH_METADATA, metatype) ?? '');
    const prototype = Object.getPrototypeOf(instance);
    for (const name of scanner.getAllMethodNames(prototype)) {
      const handler = prototype[name];
      const method: RequestMethod | undefined = Reflect.getMetadata(METHOD_METADATA, handler);
      if (method === undefined) continue;
      const sub = String(Reflect.getMetadata(PATH_METADATA, handler) ?? '');
      const path = `/${['api', base, sub]
        .map((part) => part.replace(/^\/+|\/+$/g, ''))
        .filter(Boolean)
        .join('/')}`;
      const isPublic =
        Reflect.getMetadata(IS_PUBLIC_KEY, handler) === true ||
        Reflect.getMetadata(OPTIONAL_AUTH_KEY, handler) === true;
      const owned = Reflect.getMetadata(OWNED_KEY, handler) as OwnedRule | undefined;
      const verb = RequestMethod[method];
      routes.push({ route: `${verb} ${path}`, method: verb, path, isPublic, owned });
    }
  }
  return routes;
}

/** The models `app` protects with `@Owned(...)`: its resources (also what a user's deletion deletes). */
export function ownedModels(app: INestApplication): string[] {
  const models = registeredRoutes(app).flatMap(({ owned }) => (owned ? [owned.model] : []));
  return [...new Set(models)].sort();
}

import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';

/** Values read so far, per metadata key. */
type Values = Map<string, unknown>;

/**
 * Per reflector (a host may give the guards its own), then per handler, then per controller
 * class (one handler may serve several, by inheritance). Weak: nothing outlives its class.
 */
const routeValues = new WeakMap<Reflector, WeakMap<object, WeakMap<object, Values>>>();
/** Per reflector, then per handler, for keys only a handler carries. */
const handlerValues = new WeakMap<Reflector, WeakMap<object, Values>>();

/*
 * The guards read a route's metadata on every request; each Reflector call walks
 * reflect-metadata's prototype chains again (reflect-metadata and Nest's Reflector were 4% of
 * GET /users/me, inclusive, in a CPU profile). Metadata is set by decorators when a class is
 * defined, so each route's answer is read once with the reflector and remembered here. Metadata
 * a host sets on a route at run time, after the route's first request, is not seen
 * (docs/auth-kit.md).
 */

/** `reflector.getAllAndOverride(key, [handler, class])`, read once per route. */
export function routeMetadata<T>(
  reflector: Reflector,
  key: string,
  context: ExecutionContext,
): T | undefined {
  const handler = context.getHandler();
  const type = context.getClass();
  // A context built by hand may lack either: read it as the reflector would, every time.
  if (typeof handler !== 'function' || typeof type !== 'function') {
    return reflector.getAllAndOverride<T | undefined>(key, [handler, type]);
  }
  let byHandler = routeValues.get(reflector);
  if (byHandler === undefined) routeValues.set(reflector, (byHandler = new WeakMap()));
  let byClass = byHandler.get(handler);
  if (byClass === undefined) byHandler.set(handler, (byClass = new WeakMap()));
  let values = byClass.get(type);
  if (values === undefined) byClass.set(type, (values = new Map<string, unknown>()));
  if (!values.has(key)) values.set(key, reflector.getAllAndOverride<T>(key, [handler, type]));
  return values.get(key) as T | undefined;
}

/** `reflector.get(key, handler)`, read once per handler. */
export function handlerMetadata<T>(
  reflector: Reflector,
  key: string,
  context: ExecutionContext,
): T | undefined {
  const handler = context.getHandler();
  if (typeof handler !== 'function') return reflector.get<T | undefined>(key, handler);
  let byHandler = handlerValues.get(reflector);
  if (byHandler === undefined) handlerValues.set(reflector, (byHandler = new WeakMap()));
  let values = byHandler.get(handler);
  if (values === undefined) byHandler.set(handler, (values = new Map<string, unknown>()));
  if (!values.has(key)) values.set(key, reflector.get<T | undefined>(key, handler));
  return values.get(key) as T | undefined;
}

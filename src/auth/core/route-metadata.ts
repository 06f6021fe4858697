import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';

/** Values read so far, per metadata key. */
type Values = Map<string, unknown>;

/** Per handler, then per controller class (one handler may serve several, by inheritance). */
const routeValues = new WeakMap<object, WeakMap<object, Values>>();
/** Per handler, for keys only a handler carries. */
const handlerValues = new WeakMap<object, Values>();

/*
 * The guards read a route's metadata on every request; each Reflector call walks
 * reflect-metadata's prototype chains again (4% of GET /users/me in a CPU profile). Metadata is
 * set by decorators when a class is defined, never while it serves, so each route's answer is read
 * once with the reflector and remembered here, per handler and class (weakly: nothing outlives its
 * class).
 */

/** `reflector.getAllAndOverride(key, [handler, class])`, read once per route. */
export function routeMetadata<T>(
  reflector: Reflector,
  key: string,
  context: ExecutionContext,
): T | undefined {
  const handler = context.getHandler();
  const type = context.getClass();
  let byClass = routeValues.get(handler);
  if (byClass === undefined) routeValues.set(handler, (byClass = new WeakMap()));
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
  let values = handlerValues.get(handler);
  if (values === undefined) handlerValues.set(handler, (values = new Map<string, unknown>()));
  if (!values.has(key)) values.set(key, reflector.get<T | undefined>(key, handler));
  return values.get(key) as T | undefined;
}

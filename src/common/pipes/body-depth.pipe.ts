import type { ArgumentMetadata, PipeTransform } from '@nestjs/common';
import { BadRequestException, Injectable } from '@nestjs/common';

/**
 * Deepest request body accepted. Our DTOs are flat; class-transformer recurses once per level and
 * overflows the stack (a 500) on a few thousand levels, which fit in a small body.
 */
export const MAX_BODY_DEPTH = 32;

const isPlainContainer = (value: unknown): value is object => {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return true;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
};

/** Depth of nested plain objects and arrays, walked without recursion and each object once. */
export function exceedsDepth(value: unknown, maxDepth: number): boolean {
  const seen = new WeakSet<object>();
  const stack: { node: unknown; depth: number }[] = [{ node: value, depth: 1 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { node, depth } = item;
    if (!isPlainContainer(node) || seen.has(node)) continue;
    if (depth > maxDepth) return true;
    seen.add(node);
    for (const child of Object.values(node)) stack.push({ node: child, depth: depth + 1 });
  }
  return false;
}

/** 400 for a body nested deeper than MAX_BODY_DEPTH, before validation walks it. */
@Injectable()
export class BodyDepthPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'body' && exceedsDepth(value, MAX_BODY_DEPTH)) {
      throw new BadRequestException(`The body is nested deeper than ${MAX_BODY_DEPTH} levels`);
    }
    return value;
  }
}

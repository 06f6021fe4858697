import { BadRequestException } from '@nestjs/common';
import type { QueryFilter, Schema, SortOrder } from 'mongoose';
import { trusted, Types } from 'mongoose';

import type { PaginationQueryDto } from './dto/pagination-query.dto.js';

/** A list's order: ends with `_id`, so that no two documents tie and a cursor is a position. */
export type KeysetSort = Record<string, SortOrder>;

type CursorValue = string | number;

const INVALID = 'Invalid cursor: pass the `next` value of a previous page unchanged';

/** A document (hydrated) whose sort keys a cursor reads. */
export interface Readable {
  get(path: string): unknown;
}

function toCursorValue(value: unknown): CursorValue {
  if (value instanceof Date) return value.getTime();
  if (value instanceof Types.ObjectId) return value.toHexString();
  if (typeof value === 'string' || typeof value === 'number') return value;
  throw new Error(`Cannot page on a ${typeof value} sort key`);
}

function descending(order: SortOrder): boolean {
  return order === -1 || order === 'desc' || order === 'descending';
}

/**
 * The opaque cursor after `doc` in `sort` order: base64url JSON of the sort's field names
 * (a cursor from another order is refused, not misread) and the document's values for them.
 */
export function encodeCursor(doc: Readable, sort: KeysetSort): string {
  const fields = Object.keys(sort);
  const payload = [fields.join(','), ...fields.map((f) => toCursorValue(doc.get(f)))];
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

function fromCursorValue(schema: Schema, field: string, value: unknown): unknown {
  const type = (schema.path(field) as { instance?: string } | undefined)?.instance;
  if (type === 'Date' && Number.isSafeInteger(value)) {
    const date = new Date(value as number);
    if (!Number.isNaN(date.getTime())) return date;
  }
  if (type === 'ObjectId' && typeof value === 'string' && /^[0-9a-f]{24}$/.test(value)) {
    return new Types.ObjectId(value);
  }
  if (type === 'String' && typeof value === 'string') return value;
  if (type === 'Number' && typeof value === 'number' && Number.isFinite(value)) return value;
  throw new BadRequestException(INVALID);
}

/** The sort values a cursor carries, typed by the schema; 400 for anything else. */
export function decodeCursor(cursor: string, sort: KeysetSort, schema: Schema): unknown[] {
  const fields = Object.keys(sort);
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new BadRequestException(INVALID);
  }
  if (
    !Array.isArray(payload) ||
    payload.length !== fields.length + 1 ||
    payload[0] !== fields.join(',')
  ) {
    throw new BadRequestException(INVALID);
  }
  return fields.map((field, i) => fromCursorValue(schema, field, payload[i + 1]));
}

/**
 * Documents strictly after `values` in `sort` order: `(a < x) or (a = x and b < y) ...`. Each
 * branch is an equality prefix and one range, which the list's (filter, sort keys) index serves.
 */
export function afterFilter<T>(sort: KeysetSort, values: readonly unknown[]): QueryFilter<T> {
  const entries = Object.entries(sort);
  const branches = entries.map(([field, order], k) => {
    const branch: Record<string, unknown> = {};
    for (let j = 0; j < k; j++) branch[entries[j][0]] = values[j];
    branch[field] = trusted({ [descending(order) ? '$lt' : '$gt']: values[k] });
    return branch;
  });
  return { $or: branches };
}

/** In-memory counterpart of afterFilter, for lists ordered outside the database. */
export function isAfter(doc: Readable, sort: KeysetSort, values: readonly unknown[]): boolean {
  const entries = Object.entries(sort);
  for (let k = 0; k < entries.length; k++) {
    const [field, order] = entries[k];
    const mine = toCursorValue(doc.get(field));
    const theirs = toCursorValue(values[k]);
    if (mine === theirs) continue;
    return descending(order) ? mine < theirs : mine > theirs;
  }
  return false;
}

/** `after` starts from a position, `page` from an offset: both at once is a client mistake. */
export function assertOneStart(query: PaginationQueryDto): void {
  if (query.after !== undefined && query.page > 1) {
    throw new BadRequestException('Use either after or page, not both');
  }
}

import type { HydratedDocument, Model, QueryFilter, Schema } from 'mongoose';

import type { KeysetSort, Readable } from './cursor.js';
import { afterFilter, assertOneStart, decodeCursor, encodeCursor, isAfter } from './cursor.js';
import type { PageDto } from './dto/paginated.dto.js';
import type { PaginationQueryDto } from './dto/pagination-query.dto.js';
import { pageOffset } from './dto/pagination-query.dto.js';

/**
 * One page of `model` matching `filter` in `sort` order (which must end with `_id`), by offset
 * (`page`) or after a cursor (`after`), with the total count and the cursor of the next page.
 */
export async function paginate<T, R>(
  model: Model<T>,
  filter: QueryFilter<T>,
  query: PaginationQueryDto,
  sort: KeysetSort,
  toResponse: (doc: HydratedDocument<T>) => R,
): Promise<PageDto<R>> {
  assertOneStart(query);
  const where =
    query.after === undefined
      ? filter
      : ({
          $and: [filter, afterFilter<T>(sort, decodeCursor(query.after, sort, model.schema))],
        } as QueryFilter<T>);
  const offset = query.after === undefined ? pageOffset(query) : 0;
  // One extra document tells whether a next page exists without another query.
  const found = await model
    .find(where)
    .sort(sort)
    .skip(offset)
    .limit(query.limit + 1);
  const more = found.length > query.limit;
  const docs = more ? found.slice(0, query.limit) : found;
  // A last page that holds documents gives the total without counting them all again.
  const total =
    !more && query.after === undefined && (docs.length > 0 || offset === 0)
      ? offset + docs.length
      : await countAll(model, filter);
  return {
    items: docs.map(toResponse),
    total,
    page: query.page,
    limit: query.limit,
    next: more ? encodeCursor(docs[docs.length - 1], sort) : null,
  };
}

/** Counting everything reads collection metadata, not every document. */
function countAll<T>(model: Model<T>, filter: QueryFilter<T>): Promise<number> {
  return Object.keys(filter).length === 0
    ? model.estimatedDocumentCount()
    : model.countDocuments(filter);
}

/**
 * paginate() over documents already in memory in `sort` order (a small window the database
 * returned), with the same `page`, `after` and `next` rules.
 */
export function paginateInMemory<D extends Readable, R>(
  ordered: readonly D[],
  query: PaginationQueryDto,
  sort: KeysetSort,
  schema: Schema,
  toResponse: (doc: D) => R,
): PageDto<R> {
  assertOneStart(query);
  let start = pageOffset(query);
  if (query.after !== undefined) {
    const values = decodeCursor(query.after, sort, schema);
    start = ordered.findIndex((doc) => isAfter(doc, sort, values));
    if (start === -1) start = ordered.length;
  }
  const docs = ordered.slice(start, start + query.limit);
  const more = start + query.limit < ordered.length;
  return {
    items: docs.map(toResponse),
    total: ordered.length,
    page: query.page,
    limit: query.limit,
    next: more ? encodeCursor(docs[docs.length - 1], sort) : null,
  };
}

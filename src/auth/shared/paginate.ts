import type { HydratedDocument, Model, QueryFilter, SortOrder } from 'mongoose';

import type { PageDto } from './dto/paginated.dto.js';
import type { PaginationQueryDto } from './dto/pagination-query.dto.js';
import { pageOffset } from './dto/pagination-query.dto.js';

/** One page of `model` matching `filter`, with the total count: every list answers this shape. */
export async function paginate<T, R>(
  model: Model<T>,
  filter: QueryFilter<T>,
  query: PaginationQueryDto,
  sort: Record<string, SortOrder>,
  toResponse: (doc: HydratedDocument<T>) => R,
): Promise<PageDto<R>> {
  const [docs, total] = await Promise.all([
    model.find(filter).sort(sort).skip(pageOffset(query)).limit(query.limit),
    model.countDocuments(filter),
  ]);
  return { items: docs.map(toResponse), total, page: query.page, limit: query.limit };
}

import { IsIn, IsOptional } from 'class-validator';

import { PaginationQueryDto } from '../../auth/index.js';

export const TODO_SORT_FIELDS = ['createdAt', 'due'] as const;
export type TodoSortField = (typeof TODO_SORT_FIELDS)[number];
export const SORT_ORDERS = ['asc', 'desc'] as const;
export type SortOrder = (typeof SORT_ORDERS)[number];

export class ListTodosQueryDto extends PaginationQueryDto {
  /** Sort key. Default `createdAt` (newest first). */
  @IsOptional()
  @IsIn(TODO_SORT_FIELDS)
  sort?: TodoSortField;

  /** Default `asc` for `sort=due` (soonest first), `desc` for `createdAt` (newest first). */
  @IsOptional()
  @IsIn(SORT_ORDERS)
  order?: SortOrder;
}

import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

export const MAX_PAGE_SIZE = 100;

/**
 * Deepest page served. Without a bound a page such as 10^12 makes `skip` overflow what the
 * server accepts (a driver error, a 500) and a page of 10^6 makes the database walk 10^8
 * entries; with it the largest skip is (MAX_PAGE - 1) × MAX_PAGE_SIZE ≈ 10^6. Clients that
 * need to go further use the filters.
 */
export const MAX_PAGE = 10_000;

/** A cursor holds a few sort values and an id: far below this. */
export const MAX_CURSOR_LENGTH = 512;

export class PaginationQueryDto {
  // Optional for the client (defaults apply), always set after validation. `@Type(() => Number)`
  // turns a repeated parameter (an array) or an empty one into NaN or 0, which IsInt/Min refuse.
  @ApiPropertyOptional({ default: 1, minimum: 1, maximum: MAX_PAGE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE)
  page: number = 1;

  @ApiPropertyOptional({
    default: 20,
    minimum: 1,
    maximum: MAX_PAGE_SIZE,
    description: 'Items per page',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit: number = 20;

  // Decoded and checked against the list's order by the paginator (cursor.ts): here only its
  // alphabet and size, so that nothing else reaches the decoder.
  @ApiPropertyOptional({
    description:
      'Keyset pagination: the `next` cursor of the previous page. Pages from that position in ' +
      'the same order (stable, ties broken by id); not with `page` > 1.',
    maxLength: MAX_CURSOR_LENGTH,
    pattern: '^[A-Za-z0-9_-]+$',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_CURSOR_LENGTH)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'after must be a cursor from a previous page' })
  after?: string;
}

/**
 * Documents to skip for a page. A function, not a getter on the DTO: class-transformer copies
 * every query parameter onto the instance before validation, and `?skip=5` assigning to a
 * getter-only property threw a TypeError (a 500) instead of the whitelist's 400.
 */
export function pageOffset(query: PaginationQueryDto): number {
  return (query.page - 1) * query.limit;
}

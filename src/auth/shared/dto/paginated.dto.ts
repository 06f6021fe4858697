import { applyDecorators, Type as ClassType } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiProperty, getSchemaPath } from '@nestjs/swagger';

/** Every list answers `{ items, total, page, limit, next }`. */
export class PageDto<T> {
  // Each route narrows this to its own model with ApiPageResponse().
  @ApiProperty({ type: 'array', items: { type: 'object' } })
  items!: T[];
  @ApiProperty({ example: 42 })
  total!: number;
  @ApiProperty({ example: 1 })
  page!: number;
  @ApiProperty({ example: 20 })
  limit!: number;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Cursor of the next page (pass it as `after`); null on the last page',
    example: 'WyJjcmVhdGVkQXQsX2lkIiwxNzAwMDAwMDAwMDAwLCI2NWYwMDAwMDAwMDAwMDAwMDAwMDAwMDAiXQ',
  })
  next!: string | null;
}

/** Documents a 200 whose body is a page of `model`. */
export function ApiPageResponse(model: ClassType, description = 'One page of results') {
  return applyDecorators(
    ApiExtraModels(PageDto, model),
    ApiOkResponse({
      description,
      schema: {
        allOf: [
          { $ref: getSchemaPath(PageDto) },
          { properties: { items: { type: 'array', items: { $ref: getSchemaPath(model) } } } },
        ],
      },
    }),
  );
}

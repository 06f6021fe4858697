import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';

import { Trim } from '../../auth/index.js';
import { IsDueDate } from './due-date.validation.js';

/**
 * Body of `POST /todos` and `PUT /todos/:id`. There is no `done` (new todos start not done; only
 * an admin marks them, through `PATCH /todos/:id/done`) and no owner (taken from the token):
 * either field is refused with 400.
 */
export class CreateTodoDto {
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  title!: string;

  /** Free text; empty when left out. */
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  /**
   * ISO 8601 date or date-time with an offset. Left out, the todo is due at once (the time of the
   * request), as in the todo seed; `null` or an empty string is a malformed date, not a missing one.
   */
  @ApiProperty({ format: 'date-time', example: '2025-06-30T17:00:00Z', required: false })
  // Not IsOptional, which would also let null through.
  @ValidateIf((_dto: unknown, value: unknown) => value !== undefined)
  @IsDueDate()
  due?: string;
}

import { PartialType } from '@nestjs/swagger';

import { CreateTodoDto } from './create-todo.dto.js';

/**
 * `PATCH /todos/:id`: some of title, description, due. Not `done` (admin route) nor the owner.
 * A field left out is kept; `null` is refused like any malformed value (with the default
 * IsOptional a null due date would become 1970-01-01).
 */
export class UpdateTodoDto extends PartialType(CreateTodoDto, { skipNullProperties: false }) {}

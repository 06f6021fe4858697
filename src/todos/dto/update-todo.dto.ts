import { PartialType } from '@nestjs/swagger';
import { CreateTodoDto } from './create-todo.dto.js';

/** `PATCH /todos/:id`: some of title, description, due. Not `done` (admin route) nor the owner. */
export class UpdateTodoDto extends PartialType(CreateTodoDto) {}

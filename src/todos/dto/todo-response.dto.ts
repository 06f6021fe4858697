import { ownedRecordFields } from '../../common/mappers/owned-record.mapper.js';
import type { TodoDocument } from '../schemas/todo.schema.js';

/** What anonymous callers see: no owner, no description, no timestamps. */
export class PublicTodoDto {
  id!: string;
  title!: string;
  due!: Date;
  done!: boolean;
}

/** What the owner and admins see. */
export class TodoResponseDto extends PublicTodoDto {
  description!: string;
  /** Id of the user who owns it. */
  owner!: string;
  createdAt!: Date;
  updatedAt!: Date;
}

export function toPublicTodo(doc: TodoDocument): PublicTodoDto {
  return { id: doc._id.toString(), title: doc.title, due: doc.due, done: doc.done };
}

export function toTodoResponse(doc: TodoDocument): TodoResponseDto {
  return { ...toPublicTodo(doc), ...ownedRecordFields(doc, 'owner'), description: doc.description };
}

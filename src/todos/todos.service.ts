import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { QueryFilter, SortOrder as MongooseSortOrder } from 'mongoose';
import { Model } from 'mongoose';

import type { AuthUser } from '../auth/index.js';
import type { PageDto } from '../auth/index.js';
import { listOwner, paginate, paginateInMemory } from '../auth/index.js';
import type { CreateTodoDto } from './dto/create-todo.dto.js';
import type { ListTodosQueryDto, TodoSortField } from './dto/list-todos-query.dto.js';
import type { PublicTodoDto, TodoResponseDto } from './dto/todo-response.dto.js';
import { toPublicTodo, toTodoResponse } from './dto/todo-response.dto.js';
import type { UpdateTodoDto } from './dto/update-todo.dto.js';
import type { TodoDocument } from './schemas/todo.schema.js';
import { Todo } from './schemas/todo.schema.js';

/** Anonymous callers see this many of the newest todos, never more, whatever the pagination. */
export const ANONYMOUS_TODO_WINDOW = 5;

interface SortSpec {
  field: TodoSortField;
  direction: 1 | -1;
}

function sortSpec(query: ListTodosQueryDto): SortSpec {
  const field = query.sort ?? 'createdAt';
  const order = query.order ?? (field === 'due' ? 'asc' : 'desc');
  return { field, direction: order === 'asc' ? 1 : -1 };
}

@Injectable()
export class TodosService {
  constructor(@InjectModel(Todo.name) private readonly todos: Model<Todo>) {}

  /** Anonymous: the public view of the newest few; a user: their own; an admin: everyone's. */
  list(
    query: ListTodosQueryDto,
    user?: AuthUser,
  ): Promise<PageDto<TodoResponseDto> | PageDto<PublicTodoDto>> {
    if (!user) return this.listAnonymous(query);
    const owner = listOwner(user, undefined, { adminDefault: 'all' });
    const filter: QueryFilter<Todo> = owner === undefined ? {} : { owner };
    return this.listFull(filter, query);
  }

  async create(dto: CreateTodoDto, ownerId: string): Promise<TodoResponseDto> {
    // Fields are picked one by one: nothing else from a body ever reaches the document.
    // Without a due date the todo is due when it is created: one clock reading for both fields.
    const now = new Date();
    const doc = await this.todos.create({
      title: dto.title,
      description: dto.description ?? '',
      due: dto.due === undefined ? now : new Date(dto.due),
      done: false,
      owner: ownerId,
      createdAt: now,
    });
    return toTodoResponse(doc);
  }

  view(doc: TodoDocument): TodoResponseDto {
    return toTodoResponse(doc);
  }

  /**
   * PUT: title, description and due are replaced with the defaults of a create (a missing
   * description becomes empty, a missing due date means due now).
   */
  replace(doc: TodoDocument, dto: CreateTodoDto): Promise<TodoResponseDto> {
    doc.title = dto.title;
    doc.description = dto.description ?? '';
    doc.due = dto.due === undefined ? new Date() : new Date(dto.due);
    return this.save(doc);
  }

  /** PATCH: only the fields given change. */
  update(doc: TodoDocument, dto: UpdateTodoDto): Promise<TodoResponseDto> {
    if (dto.title !== undefined) doc.title = dto.title;
    if (dto.description !== undefined) doc.description = dto.description;
    if (dto.due !== undefined) doc.due = new Date(dto.due);
    return this.save(doc);
  }

  async setDone(id: string, done: boolean): Promise<TodoResponseDto> {
    const doc = await this.todos.findById(id);
    if (!doc) throw new NotFoundException('Todo not found');
    doc.done = done;
    return this.save(doc);
  }

  async remove(doc: TodoDocument): Promise<void> {
    await doc.deleteOne();
  }

  private async save(doc: TodoDocument): Promise<TodoResponseDto> {
    return toTodoResponse(await doc.save());
  }

  private async listFull(
    filter: QueryFilter<Todo>,
    query: ListTodosQueryDto,
  ): Promise<PageDto<TodoResponseDto>> {
    const { field, direction } = sortSpec(query);
    const sort: Record<string, MongooseSortOrder> = { [field]: direction, _id: direction };
    return paginate(this.todos, filter, query, sort, toTodoResponse);
  }

  /**
   * The newest {@link ANONYMOUS_TODO_WINDOW} todos form the whole anonymous collection: `total` is
   * at most that many, `sort`/`order` reorder them, and `page`/`limit` page through them.
   */
  private async listAnonymous(query: ListTodosQueryDto): Promise<PageDto<PublicTodoDto>> {
    const newest = await this.todos
      .find()
      .select({ title: 1, due: 1, done: 1, createdAt: 1 })
      .sort({ createdAt: -1, _id: -1 })
      .limit(ANONYMOUS_TODO_WINDOW);
    const { field, direction } = sortSpec(query);
    const ordered = [...newest].sort(
      (a, b) =>
        direction * (a[field].getTime() - b[field].getTime()) ||
        direction * a._id.toString().localeCompare(b._id.toString()),
    );
    const sort: Record<string, MongooseSortOrder> = { [field]: direction, _id: direction };
    return paginateInMemory(ordered, query, sort, this.todos.schema, toPublicTodo);
  }
}

import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';

import type { AuthUser } from '../auth/index.js';
import {
  Auth,
  CurrentUser,
  OptionalAuth,
  Owned,
  OwnedResource,
  Role,
  Scopes,
} from '../auth/index.js';
import { PageDto, ParseObjectIdPipe } from '../auth/index.js';
import { CreateTodoDto } from './dto/create-todo.dto.js';
import { ListTodosQueryDto } from './dto/list-todos-query.dto.js';
import { SetDoneDto } from './dto/set-done.dto.js';
import { PublicTodoDto, TodoResponseDto } from './dto/todo-response.dto.js';
import { UpdateTodoDto } from './dto/update-todo.dto.js';
import type { TodoDocument } from './schemas/todo.schema.js';
import { TODO_OWNERSHIP } from './schemas/todo.schema.js';
import { ANONYMOUS_TODO_WINDOW, TodosService } from './todos.service.js';

@ApiTags('todos')
@Controller('todos')
export class TodosController {
  constructor(private readonly todos: TodosService) {}

  @Get()
  @OptionalAuth()
  @Scopes('todos:read')
  @ApiOperation({
    summary: 'List todos: anonymous → the newest few (public fields), user → own, admin → all',
    description:
      `Without a token the collection is the ${ANONYMOUS_TODO_WINDOW} newest todos of everyone, ` +
      `with id, title, due and done only: \`total\` is at most ${ANONYMOUS_TODO_WINDOW}, sort/order ` +
      'reorder those and page/limit page through them. With a token a user gets their own todos ' +
      'and an admin everyone’s, in full. Default order: newest first; `sort=due` defaults to ' +
      'soonest first.',
  })
  @ApiExtraModels(PageDto, TodoResponseDto, PublicTodoDto)
  @ApiOkResponse({
    description:
      'One page of todos: full todos for a signed-in caller, public fields only (PublicTodoDto) ' +
      'for an anonymous one',
    schema: {
      allOf: [
        { $ref: getSchemaPath(PageDto) },
        {
          properties: {
            items: {
              type: 'array',
              // A full todo has every public field too, so it matches both schemas: anyOf,
              // not oneOf (which would make every signed-in item invalid).
              items: {
                anyOf: [
                  { $ref: getSchemaPath(TodoResponseDto) },
                  { $ref: getSchemaPath(PublicTodoDto) },
                ],
              },
            },
          },
        },
      ],
    },
  })
  list(
    @Query() query: ListTodosQueryDto,
    @CurrentUser() user?: AuthUser,
  ): Promise<PageDto<TodoResponseDto> | PageDto<PublicTodoDto>> {
    return this.todos.list(query, user);
  }

  @Post()
  @Auth()
  @Scopes('todos:write')
  @ApiOperation({ summary: 'Create a todo (you become its owner; it starts not done)' })
  @ApiCreatedResponse({ type: TodoResponseDto })
  @ApiBadRequestResponse({
    description: 'Invalid body: bad due date, or a field such as done or owner',
  })
  create(@Body() dto: CreateTodoDto, @CurrentUser() user: AuthUser): Promise<TodoResponseDto> {
    return this.todos.create(dto, user.id);
  }

  @Get(':id')
  @Auth()
  @Scopes('todos:read')
  @Owned(TODO_OWNERSHIP)
  @ApiOperation({ summary: 'Read a todo (owner or admin)' })
  @ApiOkResponse({ type: TodoResponseDto })
  get(@OwnedResource() todo: TodoDocument): TodoResponseDto {
    return this.todos.view(todo);
  }

  @Put(':id')
  @Auth()
  @Scopes('todos:write')
  @Owned(TODO_OWNERSHIP)
  @ApiOperation({ summary: 'Replace title, description and due (owner or admin)' })
  @ApiOkResponse({ type: TodoResponseDto })
  replace(
    @OwnedResource() todo: TodoDocument,
    @Body() dto: CreateTodoDto,
  ): Promise<TodoResponseDto> {
    return this.todos.replace(todo, dto);
  }

  @Patch(':id')
  @Auth()
  @Scopes('todos:write')
  @Owned(TODO_OWNERSHIP)
  @ApiOperation({
    summary: 'Change title, description or due (owner or admin)',
    description: '`done` is not accepted here (400): only an admin sets it, via PATCH /done.',
  })
  @ApiOkResponse({ type: TodoResponseDto })
  update(
    @OwnedResource() todo: TodoDocument,
    @Body() dto: UpdateTodoDto,
  ): Promise<TodoResponseDto> {
    return this.todos.update(todo, dto);
  }

  // The role check runs before the id is even looked at, so non-admins learn nothing (403 always).
  @Patch(':id/done')
  @Auth(Role.Admin)
  @Scopes('admin')
  @ApiOperation({ summary: 'Mark a todo done or not done (admin only; owners included get 403)' })
  @ApiOkResponse({ type: TodoResponseDto })
  @ApiBadRequestResponse({ description: 'Invalid id, or done is not a boolean' })
  @ApiNotFoundResponse({ description: 'No such todo' })
  setDone(
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() dto: SetDoneDto,
  ): Promise<TodoResponseDto> {
    return this.todos.setDone(id, dto.done);
  }

  @Delete(':id')
  @HttpCode(204)
  @Auth()
  @Scopes('todos:write')
  @Owned(TODO_OWNERSHIP)
  @ApiOperation({ summary: 'Delete a todo (owner or admin)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  remove(@OwnedResource() todo: TodoDocument): Promise<void> {
    return this.todos.remove(todo);
  }
}

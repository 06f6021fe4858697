import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';

import { Todo, TodoSchema } from './schemas/todo.schema.js';
import { TodosController } from './todos.controller.js';
import { TodosService } from './todos.service.js';

@Module({
  imports: [MongooseModule.forFeature([{ name: Todo.name, schema: TodoSchema }])],
  controllers: [TodosController],
  providers: [TodosService],
})
export class TodosModule {}

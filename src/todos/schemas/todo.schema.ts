import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { HydratedDocument, Types } from 'mongoose';
import { Schema as MongooseSchema } from 'mongoose';

import type { OwnedOptions } from '../../auth/index.js';

@Schema({ timestamps: true, collection: 'todos' })
export class Todo {
  @Prop({ required: true, trim: true })
  title!: string;

  @Prop({ type: String, default: '' })
  description!: string;

  @Prop({ type: Date, required: true })
  due!: Date;

  /** Only an admin changes it (`PATCH /todos/:id/done`); new todos start not done. */
  @Prop({ type: Boolean, default: false })
  done!: boolean;

  /** Owner: set from the access token, never from a request body. */
  @Prop({ type: MongooseSchema.Types.ObjectId, ref: 'User', required: true })
  owner!: Types.ObjectId;

  createdAt!: Date;
  updatedAt!: Date;
}

export type TodoDocument = HydratedDocument<Todo>;
export const TodoSchema = SchemaFactory.createForClass(Todo);
// Both orders a list offers (`sort=createdAt|due`, `_id` breaks ties), per owner (users) and
// across owners (admins, and the anonymous newest window); also serve owner lookups.
TodoSchema.index({ owner: 1, createdAt: -1, _id: -1 });
TodoSchema.index({ owner: 1, due: 1, _id: 1 });
TodoSchema.index({ createdAt: -1, _id: -1 });
TodoSchema.index({ due: 1, _id: 1 });

export const TODO_OWNERSHIP: OwnedOptions = { model: Todo.name, ownerField: 'owner' };

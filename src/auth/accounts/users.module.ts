import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';

import { AdminLockService } from './admin-lock.service.js';
import { AdminLock, AdminLockSchema } from './schemas/admin-lock.schema.js';
import { User, UserSchema } from './schemas/user.schema.js';
import {
  UserSecurityChange,
  UserSecurityChangeSchema,
} from './schemas/user-security-change.schema.js';
import { UserLifecycle } from './user-lifecycle.service.js';
import { UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';

/** Accounts and their admin routes. Part of the auth kit: AuthModule imports it. */
@Module({
  imports: [
    MongooseModule.forFeature([
      { name: User.name, schema: UserSchema },
      { name: UserSecurityChange.name, schema: UserSecurityChangeSchema },
      { name: AdminLock.name, schema: AdminLockSchema },
    ]),
  ],
  controllers: [UsersController],
  providers: [UsersService, UserLifecycle, AdminLockService],
  exports: [UsersService, UserLifecycle],
})
export class UsersModule {}

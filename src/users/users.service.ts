import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, trusted } from 'mongoose';
import type { QueryFilter } from 'mongoose';
import type { AuthUser } from '../auth/auth-user.js';
import { Role } from '../auth/roles.js';
import type { PageDto } from '../common/dto/paginated.dto.js';
import type { ListUsersQueryDto } from './dto/list-users-query.dto.js';
import type { UpdateUserDto } from './dto/update-user.dto.js';
import { User } from './schemas/user.schema.js';
import type { UserDocument } from './schemas/user.schema.js';
import { UserLifecycle } from './user-lifecycle.service.js';
import { isDuplicateKeyError } from '../database/duplicate-key.js';
import { paginate } from '../database/paginate.js';

export interface AuthUserRecord extends AuthUser {
  passwordChangedAt: Date | null;
}

function toAuthUser(doc: UserDocument): AuthUserRecord {
  return {
    id: doc._id.toString(),
    email: doc.email,
    name: doc.name,
    role: doc.role,
    active: doc.active,
    passwordChangedAt: doc.passwordChangedAt ?? null,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

@Injectable()
export class UsersService {
  constructor(
    @InjectModel(User.name) private readonly users: Model<User>,
    private readonly lifecycle: UserLifecycle,
  ) {}

  async create(input: {
    email: string;
    name: string;
    passwordHash: string;
    role?: Role;
  }): Promise<AuthUserRecord> {
    try {
      const doc = await this.users.create({
        ...input,
        role: input.role ?? Role.User,
        active: true,
      });
      return toAuthUser(doc);
    } catch (error) {
      if (isDuplicateKeyError(error)) throw new ConflictException('Email is already registered');
      throw error;
    }
  }

  async findById(id: string): Promise<AuthUserRecord | null> {
    const doc = await this.users.findById(id);
    return doc ? toAuthUser(doc) : null;
  }

  async getById(id: string): Promise<AuthUserRecord> {
    const user = await this.findById(id);
    if (!user) throw new NotFoundException('User not found');
    return user;
  }

  async findByEmailWithHash(
    email: string,
  ): Promise<{ user: AuthUserRecord; passwordHash: string } | null> {
    const doc = await this.users.findOne({ email }).select('+passwordHash');
    return doc ? { user: toAuthUser(doc), passwordHash: doc.passwordHash } : null;
  }

  async getPasswordHash(id: string): Promise<string | null> {
    const doc = await this.users.findById(id).select('+passwordHash');
    return doc?.passwordHash ?? null;
  }

  async list(query: ListUsersQueryDto): Promise<PageDto<AuthUserRecord>> {
    const filter: QueryFilter<User> = {};
    if (query.role !== undefined) filter.role = query.role;
    if (query.active !== undefined) filter.active = query.active;
    return paginate(this.users, filter, query, { createdAt: 1, _id: 1 }, toAuthUser);
  }

  async updateName(id: string, name: string): Promise<AuthUserRecord> {
    // updateOne + read: FerretDB cannot findOneAndUpdate with the projection `select: false` adds.
    await this.users.updateOne({ _id: id }, { $set: { name } });
    return this.getById(id);
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    // Whole seconds, like a token's `iat`; tokens issued before this second are refused.
    const changedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    await this.users.updateOne(
      { _id: id },
      { $set: { passwordHash, passwordChangedAt: changedAt } },
    );
    await this.lifecycle.changed(id);
  }

  /** Admin change of role/active; the last active admin cannot be demoted or disabled. */
  async adminUpdate(id: string, changes: UpdateUserDto): Promise<AuthUserRecord> {
    const user = await this.getById(id);
    const losesAdmin =
      user.role === Role.Admin &&
      user.active &&
      ((changes.role !== undefined && changes.role !== Role.Admin) || changes.active === false);
    if (losesAdmin) await this.assertAnotherActiveAdmin(id);
    const set: Partial<Pick<User, 'role' | 'active'>> = {};
    if (changes.role !== undefined) set.role = changes.role;
    if (changes.active !== undefined) set.active = changes.active;
    if (Object.keys(set).length > 0) {
      await this.users.updateOne({ _id: id }, { $set: set });
      if (set.active === false && user.active) await this.lifecycle.disabled(id);
      else await this.lifecycle.changed(id);
    }
    return this.getById(id);
  }

  /** `DELETE /users/me`: the account is disabled, its data kept. */
  async disable(id: string): Promise<void> {
    const user = await this.getById(id);
    if (user.role === Role.Admin && user.active) await this.assertAnotherActiveAdmin(id);
    await this.users.updateOne({ _id: id }, { $set: { active: false } });
    await this.lifecycle.disabled(id);
  }

  /** Hard delete: owned data first (listeners), then the user, so a failure can be retried. */
  async remove(id: string): Promise<void> {
    const user = await this.getById(id);
    if (user.role === Role.Admin && user.active) await this.assertAnotherActiveAdmin(id);
    await this.lifecycle.deleting(id);
    await this.users.deleteOne({ _id: id });
  }

  /** Creates the configured admin, or promotes and re-activates that account; never resets a password. */
  async ensureAdmin(
    email: string,
    name: string,
    hashPassword: () => Promise<string>,
  ): Promise<void> {
    const existing = await this.users.findOne({ email });
    if (existing) {
      if (existing.role !== Role.Admin || !existing.active) {
        await this.users.updateOne(
          { _id: existing._id },
          { $set: { role: Role.Admin, active: true } },
        );
        await this.lifecycle.changed(existing._id.toString());
      }
      return;
    }
    try {
      await this.users.create({
        email,
        name,
        passwordHash: await hashPassword(),
        role: Role.Admin,
      });
    } catch (error) {
      // Another instance created it first: that is the idempotent outcome we want.
      if (!isDuplicateKeyError(error)) throw error;
    }
  }

  private async assertAnotherActiveAdmin(id: string): Promise<void> {
    const others = await this.users.countDocuments({
      role: Role.Admin,
      active: true,
      // Operators we write ourselves are marked trusted; `sanitizeFilter` neutralizes all others.
      _id: trusted({ $ne: id }),
    });
    if (others === 0) {
      throw new ConflictException('The last active admin cannot be demoted, disabled or deleted');
    }
  }
}

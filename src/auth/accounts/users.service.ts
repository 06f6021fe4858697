import { randomBytes } from 'node:crypto';

import { ConflictException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { QueryFilter } from 'mongoose';
import { Model, trusted } from 'mongoose';

import { AuditRecorder, byUser } from '../audit/audit-recorder.service.js';
import type { AuthUser } from '../core/auth-user.js';
import type { ClientInfo } from '../core/client-info.js';
import { Role } from '../core/roles.js';
import type { PageDto } from '../shared/dto/paginated.dto.js';
import { isDuplicateKeyError, saveOr409 } from '../shared/duplicate-key.js';
import { paginate } from '../shared/paginate.js';
import { AdminLockService } from './admin-lock.service.js';
import type { ListUsersQueryDto } from './dto/list-users-query.dto.js';
import type { UpdateUserDto } from './dto/update-user.dto.js';
import type { UserDocument } from './schemas/user.schema.js';
import { User } from './schemas/user.schema.js';
import { UserSecurityChange } from './schemas/user-security-change.schema.js';
import { UserLifecycle } from './user-lifecycle.service.js';

export interface AuthUserRecord extends AuthUser {
  passwordChangedAt: Date | null;
  /** The password's version (see User.credentialVersion); never leaves the kit. */
  credentialVersion: string | null;
}

/** What the configured-admin check at start-up found and did. */
export type EnsureAdminOutcome =
  'created' | 'present' | 'promoted' | 'password-mismatch' | 'disabled' | 'deleted';

const EMAIL_TAKEN = 'Email is already registered';

type SecurityState = Pick<UserSecurityChange, 'role' | 'active' | 'deletedAt'>;

/** A user being deleted is already gone for everything that reads users. */
const live = (doc: UserDocument | null): doc is UserDocument => doc !== null && !doc.deletedAt;

function toAuthUser(doc: UserDocument): AuthUserRecord {
  return {
    id: doc._id.toString(),
    email: doc.email,
    name: doc.name,
    role: doc.role,
    active: doc.active,
    mfaEnabled: doc.mfaEnabled ?? false,
    emailVerified: doc.emailVerified ?? false,
    passwordChangedAt: doc.passwordChangedAt ?? null,
    credentialVersion: doc.credentialVersion ?? null,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

@Injectable()
export class UsersService {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    @InjectModel(User.name) private readonly users: Model<User>,
    @InjectModel(UserSecurityChange.name)
    private readonly securityChanges: Model<UserSecurityChange>,
    private readonly lifecycle: UserLifecycle,
    private readonly adminLock: AdminLockService,
    private readonly audit: AuditRecorder,
  ) {}

  /** Without `passwordHash` (an OpenID Connect sign-up) no password signs in until one is set. */
  async create(input: {
    email: string;
    name: string;
    passwordHash?: string;
    role?: Role;
    emailVerified?: boolean;
  }): Promise<AuthUserRecord> {
    const doc = await saveOr409(
      () => this.users.create({ ...input, role: input.role ?? Role.User, active: true }),
      'Email is already registered',
    );
    return toAuthUser(doc);
  }

  async findById(id: string): Promise<AuthUserRecord | null> {
    // By `_id` alone (the one filter FerretDB answers from its index); deletedAt is checked here.
    const doc = await this.users.findById(id);
    return live(doc) ? toAuthUser(doc) : null;
  }

  async getById(id: string): Promise<AuthUserRecord> {
    const user = await this.findById(id);
    if (!user) throw new NotFoundException('User not found');
    return user;
  }

  /** `passwordHash` undefined: the account has no password (checked against the dummy, fails). */
  async findByEmailWithHash(
    email: string,
  ): Promise<{ user: AuthUserRecord; passwordHash: string | undefined } | null> {
    const doc = await this.users.findOne({ email }).select('+passwordHash');
    return live(doc)
      ? { user: toAuthUser(doc), passwordHash: doc.passwordHash ?? undefined }
      : null;
  }

  async findByEmail(email: string): Promise<AuthUserRecord | null> {
    const doc = await this.users.findOne({ email });
    return live(doc) ? toAuthUser(doc) : null;
  }

  async setEmailVerified(id: string): Promise<void> {
    await this.users.updateOne({ _id: id }, { $set: { emailVerified: true } });
    await this.reapplySecurityState(id);
    await this.lifecycle.changed(id);
  }

  /**
   * Changes the address (confirmed from it, so verified). The unique index decides a race; on an
   * update FerretDB reports the duplicate as code 1, not 11000, so the address is checked first
   * and a late duplicate of either kind is still a 409.
   */
  async setEmail(id: string, email: string): Promise<void> {
    const taken = await this.users.exists({ email });
    if (taken && taken._id.toString() !== id) throw new ConflictException(EMAIL_TAKEN);
    try {
      await this.users.updateOne({ _id: id }, { $set: { email, emailVerified: true } });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (isDuplicateKeyError(error) || code === 1) throw new ConflictException(EMAIL_TAKEN);
      throw error;
    }
    await this.reapplySecurityState(id);
    await this.lifecycle.changed(id);
  }

  async getPasswordHash(id: string): Promise<string | null> {
    return (await this.getCredential(id))?.passwordHash ?? null;
  }

  /**
   * The hash and its credential version, from one read (see User.credentialVersion); null also
   * for an account without a password.
   */
  async getCredential(
    id: string,
  ): Promise<{ passwordHash: string; credentialVersion: string | null } | null> {
    const doc = await this.users.findById(id).select('+passwordHash');
    return live(doc) && doc.passwordHash
      ? { passwordHash: doc.passwordHash, credentialVersion: doc.credentialVersion ?? null }
      : null;
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
    await this.reapplySecurityState(id);
    return this.getById(id);
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    // Whole seconds, like a token's `iat`; tokens issued before this second are refused.
    const changedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    // Written with the hash in one update: a reader sees both old or both new.
    const credentialVersion = randomBytes(16).toString('base64url');
    await this.users.updateOne(
      { _id: id },
      { $set: { passwordHash, passwordChangedAt: changedAt, credentialVersion } },
    );
    await this.reapplySecurityState(id);
    await this.lifecycle.changed(id);
  }

  /** Display copy of the second factor's state; the factor itself lives in mfa_factors. */
  async setMfaEnabled(id: string, mfaEnabled: boolean): Promise<void> {
    await this.users.updateOne({ _id: id }, { $set: { mfaEnabled } });
    await this.reapplySecurityState(id);
    await this.lifecycle.changed(id);
  }

  /**
   * Admin change of role/active; the last active admin cannot be demoted or disabled. Changes
   * that can take admin rights away run under the admin lock, so two of them cannot both pass the
   * "another active admin remains" check.
   */
  async adminUpdate(
    id: string,
    changes: UpdateUserDto,
    admin: AuthUser,
    client: ClientInfo,
  ): Promise<AuthUserRecord> {
    const apply = () => this.applyAdminUpdate(id, changes, admin, client);
    const mayRemoveAdmin =
      (changes.role !== undefined && changes.role !== Role.Admin) || changes.active === false;
    if (mayRemoveAdmin) return this.adminLock.withLock(apply);
    return apply();
  }

  /** `DELETE /users/me`: the account is disabled, its data kept. */
  async disable(owner: AuthUser, client: ClientInfo): Promise<void> {
    const { id } = owner;
    await this.adminLock.withLock(async () => {
      const user = await this.getById(id);
      if (user.role === Role.Admin && user.active) await this.assertAnotherActiveAdmin(id);
      await this.setSecurityState(id, { active: false });
    });
    await this.lifecycle.disabled(id);
    this.audit.record('user.disabled', { by: 'user' }, byUser(owner, client));
  }

  /**
   * Hard delete. The user is marked deleted first (under the admin lock: it may be an admin), so
   * it gets no new token or refresh and every instance that reads it treats it as gone; then its
   * sessions and owned data go (listeners), then the document. Another instance may still accept
   * the user's writes from its cache for a short time, so the cascade runs once more after that
   * (UserLifecycle.scheduleSweep). A delete that failed half-way can be retried: a user already
   * marked deleted is still found here.
   */
  async remove(id: string, admin: AuthUser, client: ClientInfo): Promise<void> {
    await this.adminLock.withLock(async () => {
      const doc = await this.users.findById(id);
      if (!doc) throw new NotFoundException('User not found');
      if (doc.deletedAt) return;
      if (doc.role === Role.Admin && doc.active) await this.assertAnotherActiveAdmin(id);
      await this.setSecurityState(id, { deletedAt: new Date() });
    });
    await this.lifecycle.deleting(id);
    await this.users.deleteOne({ _id: id });
    await this.securityChanges.deleteMany({ user: id });
    this.lifecycle.scheduleSweep(id);
    this.audit.record('user.deleted', {}, byUser(admin, client, id));
  }

  /**
   * Creates the configured admin when no account has its email. An existing account is promoted
   * only when its password is the configured one (signup is open: anyone may have registered the
   * address first), and a disabled or deleted account is never brought back. Never resets a
   * password.
   */
  async ensureAdmin(
    email: string,
    name: string,
    password: { hash: () => Promise<string>; verify: (hash: string) => Promise<boolean> },
  ): Promise<EnsureAdminOutcome> {
    const existing = await this.users.findOne({ email }).select('+passwordHash');
    if (!existing) {
      try {
        await this.users.create({
          email,
          name,
          passwordHash: await password.hash(),
          role: Role.Admin,
          // Configured by whoever runs the service: there is no one to mail a link to first.
          emailVerified: true,
        });
        return 'created';
      } catch (error) {
        // Another instance created it first: that is the idempotent outcome we want.
        if (!isDuplicateKeyError(error)) throw error;
        return 'present';
      }
    }
    if (existing.deletedAt) return 'deleted';
    if (existing.role !== Role.Admin) {
      const hash = existing.passwordHash;
      if (!hash || !(await password.verify(hash))) return 'password-mismatch';
      await this.setSecurityState(existing._id.toString(), { role: Role.Admin });
      await this.markConfiguredAdminVerified(existing);
      await this.lifecycle.changed(existing._id.toString());
      return existing.active ? 'promoted' : 'disabled';
    }
    await this.markConfiguredAdminVerified(existing);
    return existing.active ? 'present' : 'disabled';
  }

  /** The configured admin counts as verified (also when its account predates verification). */
  private async markConfiguredAdminVerified(doc: UserDocument): Promise<void> {
    if (doc.emailVerified) return;
    await this.users.updateOne({ _id: doc._id }, { $set: { emailVerified: true } });
  }

  private async applyAdminUpdate(
    id: string,
    changes: UpdateUserDto,
    admin: AuthUser,
    client: ClientInfo,
  ): Promise<AuthUserRecord> {
    const user = await this.getById(id);
    const losesAdmin =
      user.role === Role.Admin &&
      user.active &&
      ((changes.role !== undefined && changes.role !== Role.Admin) || changes.active === false);
    if (losesAdmin) await this.assertAnotherActiveAdmin(id);
    const set: SecurityState = {};
    if (changes.role !== undefined) set.role = changes.role;
    if (changes.active !== undefined) set.active = changes.active;
    if (Object.keys(set).length > 0) {
      await this.setSecurityState(id, set);
      if (set.active === false && user.active) {
        await this.lifecycle.disabled(id);
        await this.lifecycle.disabledByAdmin(id);
      } else await this.lifecycle.changed(id);
      this.recordAdminChange(user, set, admin, client);
    }
    return this.getById(id);
  }

  /** What an admin's change did to the account; setting a value it already had is no event. */
  private recordAdminChange(
    before: AuthUserRecord,
    set: SecurityState,
    admin: AuthUser,
    client: ClientInfo,
  ): void {
    const parties = byUser(admin, client, before.id);
    if (set.role !== undefined && set.role !== before.role) {
      this.audit.record('user.role_changed', { from: before.role, to: set.role }, parties);
    }
    if (set.active === false && before.active) {
      const by = admin.id === before.id ? 'user' : 'admin';
      this.audit.record('user.disabled', { by }, parties);
    }
    if (set.active === true && !before.active) this.audit.record('user.enabled', {}, parties);
  }

  /**
   * Records the decision (insert: never lost), then writes it to the user document, then checks
   * that it stuck (a concurrent update of another field may have written the old values back).
   */
  private async setSecurityState(id: string, state: SecurityState): Promise<void> {
    await this.securityChanges.create({ user: id, ...state, at: new Date() });
    await this.users.updateOne({ _id: id }, { $set: state });
    await this.reapplySecurityState(id);
  }

  /**
   * On FerretDB an update is read-modify-write over the whole document: a rename landing at the
   * same moment as an admin's disable can write `active: true` back. Every write to a user is
   * followed by this: the latest recorded decision per field is compared with the document and
   * written again when it was lost. The last write to land always runs this check after it, so the
   * recorded state wins. (MongoDB applies `$set` atomically per document; there this finds nothing.)
   */
  private async reapplySecurityState(id: string): Promise<void> {
    // Bounded only against a pathological livelock; every round re-checks after its own write.
    for (let round = 0; round < 10; round++) {
      // The document first, then the decisions: a decision is inserted before its update, so the
      // decisions read here are at least as new as anything the document shows. (Reading them
      // first could write back a decision that a newer one, landing in between, replaced.)
      const doc = await this.users.findById(id);
      if (!doc) return;
      const wanted = await this.latestSecurityState(id);
      const lost: SecurityState = {};
      if (wanted.role !== undefined && doc.role !== wanted.role) lost.role = wanted.role;
      if (wanted.active !== undefined && doc.active !== wanted.active) lost.active = wanted.active;
      if (wanted.deletedAt && !doc.deletedAt) lost.deletedAt = wanted.deletedAt;
      if (Object.keys(lost).length === 0) return;
      this.logger.warn(
        `User ${id}: re-applied ${Object.keys(lost).join(', ')} lost to a concurrent update`,
      );
      await this.users.updateOne({ _id: id }, { $set: lost });
      if (lost.active === false || lost.deletedAt) await this.lifecycle.disabled(id);
      else await this.lifecycle.changed(id);
    }
    this.logger.error(`User ${id}: security state still contested after 10 rounds`);
  }

  /** The newest decision per field; few records per user (admin decisions only), all read. */
  private async latestSecurityState(id: string): Promise<SecurityState> {
    const records = await this.securityChanges.find({ user: id }).lean();
    records.sort(
      (a, b) => a.at.getTime() - b.at.getTime() || a._id.toString().localeCompare(b._id.toString()),
    );
    const wanted: SecurityState = {};
    for (const record of records) {
      if (record.role !== undefined && record.role !== null) wanted.role = record.role;
      if (record.active !== undefined && record.active !== null) wanted.active = record.active;
      if (record.deletedAt) wanted.deletedAt = record.deletedAt;
    }
    return wanted;
  }

  private async assertAnotherActiveAdmin(id: string): Promise<void> {
    const others = await this.users.countDocuments({
      role: Role.Admin,
      active: true,
      deletedAt: null,
      // Operators we write ourselves are marked trusted; `sanitizeFilter` neutralizes all others.
      _id: trusted({ $ne: id }),
    });
    if (others === 0) {
      throw new ConflictException('The last active admin cannot be demoted, disabled or deleted');
    }
  }
}

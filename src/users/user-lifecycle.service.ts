import { Injectable } from '@nestjs/common';

/**
 * Things that must happen when an account changes, registered by the modules that own them
 * (sessions end, owned data is deleted, caches drop the user). The users module does not know them.
 */
export interface UserLifecycleListener {
  /** Role, active flag or password changed: cached authorization data is stale. */
  userChanged?(userId: string): Promise<void> | void;
  /** The account was disabled: its sessions end. */
  userDisabled?(userId: string): Promise<void> | void;
  /** Hard delete, before the user document goes: remove everything the user owns. */
  userDeleting?(userId: string): Promise<void> | void;
}

@Injectable()
export class UserLifecycle {
  private readonly listeners: UserLifecycleListener[] = [];

  register(listener: UserLifecycleListener): void {
    this.listeners.push(listener);
  }

  async changed(userId: string): Promise<void> {
    for (const listener of this.listeners) await listener.userChanged?.(userId);
  }

  async disabled(userId: string): Promise<void> {
    for (const listener of this.listeners) await listener.userDisabled?.(userId);
    await this.changed(userId);
  }

  /** Listeners run in order, one at a time; each must be idempotent (no transactions on FerretDB). */
  async deleting(userId: string): Promise<void> {
    for (const listener of this.listeners) await listener.userDeleting?.(userId);
    await this.changed(userId);
  }
}

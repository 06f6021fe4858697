import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';

/**
 * Things that must happen when an account changes, registered by the modules that own them
 * (sessions end, owned data is deleted, caches drop the user). The users module does not know them.
 */
export interface UserLifecycleListener {
  /** Role, active flag or password changed: cached authorization data is stale. */
  userChanged?(userId: string): Promise<void> | void;
  /** The account was disabled: its sessions end. */
  userDisabled?(userId: string): Promise<void> | void;
  /** An admin disabled the account (after `userDisabled`): the owner is told. */
  userDisabledByAdmin?(userId: string): Promise<void> | void;
  /** Hard delete, before the user document goes: remove everything the user owns. */
  userDeleting?(userId: string): Promise<void> | void;
  /**
   * How many ways to sign in this listener keeps for the user besides a password (linked
   * providers, passkeys): the "last way to sign in" rule counts them all.
   */
  signInWays?(userId: string): Promise<number>;
  /**
   * Whether this listener keeps a second factor for the user (a passkey): a sign-in whose first
   * step is not that factor (a provider) asks for it.
   */
  hasSecondFactor?(userId: string): Promise<boolean>;
  /**
   * How long this listener may keep trusting a user it has cached (on any instance). After a
   * delete, the cascade runs once more when the longest of these has passed.
   */
  cachesUsersForMs?: number;
}

/** In-flight requests that were authenticated just before a cache entry expired may still write. */
export const DELETE_SWEEP_GRACE_MS = 2000;

@Injectable()
export class UserLifecycle implements OnModuleDestroy {
  private readonly logger = new Logger(UserLifecycle.name);
  private readonly listeners: UserLifecycleListener[] = [];
  private readonly sweeps = new Set<NodeJS.Timeout>();

  register(listener: UserLifecycleListener): void {
    this.listeners.push(listener);
  }

  /** The ways to sign in besides a password that the listeners keep for the user. */
  async signInWays(userId: string): Promise<number> {
    let ways = 0;
    for (const listener of this.listeners) ways += (await listener.signInWays?.(userId)) ?? 0;
    return ways;
  }

  /** Whether a listener keeps a second factor for the user (besides TOTP, which MfaService has). */
  async hasSecondFactor(userId: string): Promise<boolean> {
    for (const listener of this.listeners) {
      if (await listener.hasSecondFactor?.(userId)) return true;
    }
    return false;
  }

  async changed(userId: string): Promise<void> {
    for (const listener of this.listeners) await listener.userChanged?.(userId);
  }

  async disabled(userId: string): Promise<void> {
    for (const listener of this.listeners) await listener.userDisabled?.(userId);
    await this.changed(userId);
  }

  async disabledByAdmin(userId: string): Promise<void> {
    for (const listener of this.listeners) await listener.userDisabledByAdmin?.(userId);
  }

  /** Listeners run in order, one at a time; each must be idempotent (no transactions on FerretDB). */
  async deleting(userId: string): Promise<void> {
    for (const listener of this.listeners) await listener.userDeleting?.(userId);
    await this.changed(userId);
  }

  /**
   * The user document is gone. Another instance may still accept the user's writes until its
   * cache of the user expires, so the cascade runs again once that time (plus a grace for requests
   * in flight) has passed. The sweep lives in this process only: if it stops (crash, shutdown)
   * before the timer fires, the sweep is not done, and what was written late stays until the
   * user's data is removed by hand (`deleting` again with the same id is safe).
   */
  scheduleSweep(userId: string): void {
    const cachedFor = Math.max(0, ...this.listeners.map((l) => l.cachesUsersForMs ?? 0));
    const timer = setTimeout(() => {
      this.sweeps.delete(timer);
      this.deleting(userId).catch((error: unknown) =>
        this.logger.error(
          `Sweep after deleting user ${userId} failed: ${error instanceof Error ? error.message : String(error)}`,
        ),
      );
    }, cachedFor + DELETE_SWEEP_GRACE_MS);
    timer.unref();
    this.sweeps.add(timer);
  }

  onModuleDestroy(): void {
    for (const timer of this.sweeps) clearTimeout(timer);
    this.sweeps.clear();
  }
}

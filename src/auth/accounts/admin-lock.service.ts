import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { ConflictException, Injectable, Logger } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model } from 'mongoose';

import { isDuplicateKeyError } from '../shared/duplicate-key.js';
import { AdminLock } from './schemas/admin-lock.schema.js';

const LOCK_ID = 'admins';
/** Far longer than the few reads and writes a holder does; only matters after a crash. */
const LEASE_MS = 15_000;
const WAIT_MS = 5_000;
const RETRY_MS = 25;

/**
 * Serializes the changes that can remove an admin, across every API instance, so that "is there
 * another active admin?" and the change itself cannot interleave with another such change (two
 * admins disabling each other at once would otherwise both pass the check).
 */
@Injectable()
export class AdminLockService {
  private readonly logger = new Logger(AdminLockService.name);

  constructor(@InjectModel(AdminLock.name) private readonly locks: Model<AdminLock>) {}

  async withLock<T>(work: () => Promise<T>): Promise<T> {
    const holder = await this.acquire();
    try {
      return await work();
    } finally {
      // The work is done either way: a lock we fail to remove expires after its lease.
      await this.locks
        .deleteOne({ _id: LOCK_ID, holder })
        .catch((error: unknown) =>
          this.logger.warn(`Admin lock not released (expires by itself): ${String(error)}`),
        );
    }
  }

  private async acquire(): Promise<string> {
    const holder = randomBytes(16).toString('hex');
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      try {
        await this.locks.create({
          _id: LOCK_ID,
          holder,
          expiresAt: new Date(Date.now() + LEASE_MS),
        });
        return holder;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
      const current = await this.locks.findById(LOCK_ID);
      if (current && current.expiresAt.getTime() <= Date.now()) {
        // Left by a holder that died: remove exactly that lock (by its holder) and try again.
        await this.locks.deleteOne({ _id: LOCK_ID, holder: current.holder });
        continue;
      }
      if (Date.now() >= deadline) {
        throw new ConflictException('Another change to admin accounts is in progress; try again');
      }
      await sleep(RETRY_MS + Math.floor(Math.random() * RETRY_MS));
    }
  }
}

import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, trusted } from 'mongoose';

import type { AuthModuleOptions } from '../auth.options.js';
import { AUTH_OPTIONS } from '../auth.options.js';
import { isDuplicateKeyError } from '../shared/duplicate-key.js';
import { AuditRecorder } from './audit-recorder.service.js';
import { AuditEvent } from './schemas/audit-event.schema.js';
import { AuditSweep } from './schemas/audit-sweep.schema.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** One sweep per period across all instances. */
export const SWEEP_PERIOD_MS = 60 * 60 * 1000;
/** The first try after start-up: instances that restart more often than hourly still sweep. */
const FIRST_SWEEP_DELAY_MS = 60_000;

/**
 * Deletes events older than `audit.retentionDays` (default 365). FerretDB has no TTL index, so an
 * hourly timer on every instance tries, and one instance per hour sweeps: the first to insert the
 * period's lease document (`audit_sweeps`, unique `_id`); the others find it taken and skip.
 */
@Injectable()
export class AuditRetention implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('AuditRetention');
  private readonly retentionMs: number;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    @InjectModel(AuditEvent.name) private readonly events: Model<AuditEvent>,
    @InjectModel(AuditSweep.name) private readonly sweeps: Model<AuditSweep>,
    private readonly recorder: AuditRecorder,
    @Inject(AUTH_OPTIONS) options: AuthModuleOptions,
  ) {
    const days = options.audit?.retentionDays ?? 365;
    if (!(days > 0)) throw new Error('audit.retentionDays must be a positive number');
    this.retentionMs = days * DAY_MS;
  }

  onApplicationBootstrap(): void {
    const first = setTimeout(() => {
      void this.sweepLogged();
      const every = setInterval(() => void this.sweepLogged(), SWEEP_PERIOD_MS);
      every.unref();
      this.timers.push(every);
    }, FIRST_SWEEP_DELAY_MS);
    first.unref();
    this.timers.push(first);
  }

  onModuleDestroy(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
  }

  /**
   * Deletes the events older than the retention at `now`, unless another instance has swept in
   * this period already. Returns how many were deleted, or null when skipped.
   */
  async sweep(now: Date = new Date()): Promise<number | null> {
    const period = Math.floor(now.getTime() / SWEEP_PERIOD_MS);
    try {
      await this.sweeps.create({
        _id: `retention:${period}`,
        at: now,
        instance: this.recorder.instance,
      });
    } catch (error) {
      if (isDuplicateKeyError(error)) return null;
      throw error;
    }
    const cutoff = new Date(now.getTime() - this.retentionMs);
    const { deletedCount } = await this.events.deleteMany({ at: trusted({ $lt: cutoff }) });
    await this.sweeps.deleteMany({ at: trusted({ $lt: new Date(now.getTime() - DAY_MS) }) });
    if (deletedCount > 0) {
      this.logger.log(`Deleted ${deletedCount} audit events older than ${cutoff.toISOString()}`);
    }
    return deletedCount;
  }

  private async sweepLogged(): Promise<void> {
    try {
      await this.sweep();
    } catch (error) {
      this.logger.warn(`Audit retention sweep failed: ${(error as Error).message}`);
    }
  }
}

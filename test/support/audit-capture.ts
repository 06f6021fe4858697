import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import mongoose, { type Schema } from 'mongoose';

/**
 * Keeps a copy of every audit event an app of this e2e run sends to the database (the recorder's
 * `insertMany`), one JSON line per event with the e2e file that caused it, so that
 * test/zz-audit-no-secrets.e2e-spec.ts can check every event of the run, including those stored
 * on the private FerretDB servers some files start and throw away.
 */

/** One folder per run; global-setup.mjs empties it at the start of a run. */
export function auditCaptureDir(): string {
  return process.env.GUARDHOUSE_AUDIT_CAPTURE ?? join(process.cwd(), 'reports', 'audit-events');
}

export interface CapturedEvent {
  /** The event as sent, through JSON (dates as ISO strings, ObjectIds as hex). */
  event: Record<string, unknown>;
  /** The e2e file whose app recorded it. */
  seenIn: string;
}

function currentTestFile(): string {
  const state = (globalThis as { expect?: { getState(): { testPath?: string } } }).expect;
  return (state?.getState().testPath ?? '').replace(`${process.cwd()}/`, '');
}

function captureInserts(schema: Schema): void {
  schema.pre('insertMany', function (docs: unknown) {
    if (this.modelName !== 'AuditEvent') return;
    const seenIn = currentTestFile();
    const lines = (Array.isArray(docs) ? docs : [docs])
      .map((event: unknown) => `${JSON.stringify({ event, seenIn })}\n`)
      .join('');
    const dir = auditCaptureDir();
    mkdirSync(dir, { recursive: true });
    appendFileSync(join(dir, `worker-${process.env.JEST_WORKER_ID ?? '1'}.jsonl`), lines);
  });
}

/** Every model compiled after this (the app's, in each e2e file) is watched. */
export function installAuditCapture(): void {
  mongoose.plugin(captureInserts);
}

/** Everything captured in this run so far. */
export function capturedEvents(): CapturedEvent[] {
  const dir = auditCaptureDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.jsonl'))
    .flatMap((file) => readFileSync(join(dir, file), 'utf8').split('\n'))
    .filter(Boolean)
    .map((line) => JSON.parse(line) as CapturedEvent);
}

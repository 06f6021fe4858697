import 'reflect-metadata';

import { existsSync } from 'node:fs';

import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';

import { createApp } from './bootstrap.js';
import { syncAllIndexes } from './database/sync-indexes.js';

/**
 * `npm run db:indexes`: builds and syncs every model's indexes, then exits. A deploy step, run
 * once per release before the new instances start (they skip index builds in production).
 * Builds the app without starting it, so no start-up work (admin seeding, listening) happens.
 */
if (existsSync('.env')) {
  process.loadEnvFile('.env');
}

const app = await createApp({ env: { MONGODB_AUTO_INDEX: 'false', LOG_LEVEL: 'warn' } });
try {
  const changes = await syncAllIndexes(app.get<Connection>(getConnectionToken()));
  for (const { model, created, dropped } of changes) {
    const what = [...created.map((k) => `created ${k}`), ...dropped.map((n) => `dropped ${n}`)];
    process.stdout.write(`${model}: ${what.length ? what.join(', ') : 'up to date'}\n`);
  }
} catch (error) {
  process.stderr.write(`db:indexes failed: ${String(error)}\n`);
  process.exitCode = 1;
} finally {
  await app.close();
}

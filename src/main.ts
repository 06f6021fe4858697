import 'reflect-metadata';

import { existsSync } from 'node:fs';

import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';

import { createApp } from './bootstrap.js';
import type { Env } from './config/env.js';

/**
 * In-flight requests get this long after SIGTERM/SIGINT (after SHUTDOWN_DRAIN_MS); below
 * Kubernetes' default 30 s grace.
 */
const SHUTDOWN_TIMEOUT_MS = 10_000;

if (existsSync('.env')) {
  process.loadEnvFile('.env');
}

try {
  const app = await createApp();
  const config = app.get<ConfigService<Env, true>>(ConfigService);
  await app.listen({
    port: config.get('PORT', { infer: true }),
    host: config.get('HOST', { infer: true }),
  });
  const logger = new Logger('Main');
  logger.log(`listening on ${await app.getUrl()}`);
  // The shutdown hooks (see createApp) drain and exit 0; a client that never finishes its
  // request must not keep the process alive past the orchestrator's patience.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.log(`${signal} received: finishing in-flight requests`);
      const limit = SHUTDOWN_TIMEOUT_MS + config.get('SHUTDOWN_DRAIN_MS', { infer: true });
      setTimeout(() => {
        logger.error(`in-flight requests still open after ${limit} ms: exiting`);
        process.exit(1);
      }, limit).unref();
    });
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}

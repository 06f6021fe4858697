import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { ConfigService } from '@nestjs/config';
import { createApp } from './bootstrap.js';
import type { Env } from './config/env.js';

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
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}

import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { createApp } from '../../src/bootstrap.js';

export interface TestApp {
  app: NestFastifyApplication;
  /** The URI (with database) this app uses. */
  mongoUri: string;
  close(): Promise<void>;
}

/** A fresh database name on the test server, so e2e files never see each other's data. */
export function testDatabaseUri(label = 'e2e'): string {
  const base = process.env.MONGODB_URI_TEST;
  if (!base) throw new Error('MONGODB_URI_TEST is not set: run tests through jest (global setup)');
  const name = `gh_${label.replace(/[^a-z0-9]/gi, '_')}_${randomBytes(4).toString('hex')}`;
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The real app (same bootstrap as main.ts), initialized and ready for supertest. */
export async function createTestApp(
  options: { env?: Record<string, string>; label?: string; mongoUri?: string } = {},
): Promise<TestApp> {
  const mongoUri = options.mongoUri ?? testDatabaseUri(options.label);
  const app = await createApp({ env: { MONGODB_URI: mongoUri, ...options.env } });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return { app, mongoUri, close: () => app.close() };
}

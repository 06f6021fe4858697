import { randomBytes } from 'node:crypto';

import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DestinationStream } from 'pino';

import { createApp } from '../../src/bootstrap.js';
import { enforceContract } from './contract.js';

/** Test settings: a known secret so tests can forge tokens, the cheapest allowed bcrypt cost. */
export const TEST_JWT_SECRET = 'e2e-only-3f9c1b7a5d2e8046a1c9b7d3f5e2a8c4';
export const TEST_ADMIN = { email: 'root@guardhouse.test', password: 'Admin-pass-1!' };

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

/**
 * The real app (same bootstrap as main.ts), initialized and ready for supertest, its responses
 * checked against its OpenAPI document (see contract.ts).
 */
export async function createTestApp(
  options: {
    env?: Record<string, string>;
    label?: string;
    mongoUri?: string;
    /**
     * Receives the JSON log lines (with `env.LOG_LEVEL`). Nest's own logs go to the destination
     * of the first app created in the test file (nestjs-pino keeps one root logger).
     */
    logDestination?: DestinationStream;
  } = {},
): Promise<TestApp> {
  const mongoUri = options.mongoUri ?? testDatabaseUri(options.label);
  const app = await createApp({
    logDestination: options.logDestination,
    env: {
      MONGODB_URI: mongoUri,
      JWT_SECRET: TEST_JWT_SECRET,
      BCRYPT_ROUNDS: '10',
      ADMIN_EMAIL: TEST_ADMIN.email,
      ADMIN_PASSWORD: TEST_ADMIN.password,
      // Suites sign up many users from 127.0.0.1; security tests lower these on their own app.
      AUTH_RATE_LIMIT: '100000',
      LOGIN_MAX_FAILURES_PER_IP: '100000',
      COVER_UPLOADS_PER_MINUTE: '100000',
      ...options.env,
    },
  });
  // Every answer this app gives a test is checked against its own OpenAPI document.
  await enforceContract(app);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return { app, mongoUri, close: () => app.close() };
}

import { randomBytes } from 'node:crypto';

import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';

import { TEST_ADMIN } from './app.js';

export interface TestUser {
  id: string;
  email: string;
  password: string;
  token: string;
  refreshToken?: string;
  /** `{ Authorization: 'Bearer …' }` */
  auth: { Authorization: string };
}

export const STRONG_PASSWORD = 'Str0ng!pass';

/** Signs up (unless it is the configured admin) and logs in through the API. */
export async function signupAndLogin(
  app: NestFastifyApplication,
  overrides: { email?: string; password?: string; name?: string } = {},
): Promise<TestUser> {
  const email = overrides.email ?? `user-${randomBytes(5).toString('hex')}@example.com`;
  const password = overrides.password ?? STRONG_PASSWORD;
  const server = app.getHttpServer();
  const signup = await request(server)
    .post('/api/auth/signup')
    .send({ email, password, name: overrides.name ?? 'Test User' });
  if (signup.status !== 201) throw new Error(`signup failed: ${signup.status} ${signup.text}`);
  return login(app, email, password);
}

export async function login(
  app: NestFastifyApplication,
  email: string,
  password: string,
): Promise<TestUser> {
  const server = app.getHttpServer();
  const res = await request(server).post('/api/auth/login').send({ email, password });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
  const token: string = res.body.accessToken;
  const me = await request(server).get('/api/users/me').set('Authorization', `Bearer ${token}`);
  return {
    id: me.body.id,
    email,
    password,
    token,
    refreshToken: res.body.refreshToken,
    auth: { Authorization: `Bearer ${token}` },
  };
}

export function loginAdmin(app: NestFastifyApplication): Promise<TestUser> {
  return login(app, TEST_ADMIN.email, TEST_ADMIN.password);
}

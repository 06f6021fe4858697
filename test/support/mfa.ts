import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Secret, TOTP } from 'otpauth';
import request from 'supertest';

import type { TestUser } from './users.js';
import { signupAndLogin } from './users.js';

/** The code of the current time step (offset 0) or the next one (offset 1; accepted too). */
export const codeAt = (secret: string, offset: 0 | 1): string =>
  new TOTP({ secret: Secret.fromBase32(secret) }).generate({
    timestamp: Date.now() + offset * 30_000,
  });

export interface Enrolled extends TestUser {
  secret: string;
  recoveryCodes: string[];
}

/** Signs up, turns TOTP on (the current step's code is used up by the confirmation). */
export async function enrolledUser(app: NestFastifyApplication): Promise<Enrolled> {
  const user = await signupAndLogin(app);
  const server = app.getHttpServer();
  const start = await request(server)
    .post('/api/auth/mfa/totp')
    .set(user.auth)
    .send({ password: user.password })
    .expect(201);
  const secret: string = start.body.secret;
  const confirm = await request(server)
    .post('/api/auth/mfa/totp/confirm')
    .set(user.auth)
    .send({ code: codeAt(secret, 0) })
    .expect(200);
  return { ...user, secret, recoveryCodes: confirm.body.recoveryCodes };
}

/** `count` distinct six-digit codes that are surely wrong now (no accepted step produces them). */
export function wrongCodes(secret: string, count: number): string[] {
  const totp = new TOTP({ secret: Secret.fromBase32(secret) });
  const taken = new Set(
    [-2, -1, 0, 1, 2].map((s) => totp.generate({ timestamp: Date.now() + s * 30_000 })),
  );
  const codes: string[] = [];
  for (let n = 0; codes.length < count; n++) {
    const code = String(n * 7919)
      .padStart(6, '0')
      .slice(-6);
    if (!taken.has(code) && !codes.includes(code)) codes.push(code);
  }
  return codes;
}

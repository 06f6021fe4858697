import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';

import type { TestUser } from './users.js';
import type { CreationOptions } from './webauthn.js';
import { SoftAuthenticator } from './webauthn.js';

export interface RegisteredPasskey {
  /** The passkey's id in the API. */
  id: string;
  /** The WebAuthn credential id. */
  credentialId: string;
  authenticator: SoftAuthenticator;
}

/** Registers a passkey for `user` through the API, on `authenticator` (default: a new one). */
export async function registerPasskey(
  app: NestFastifyApplication,
  user: TestUser,
  authenticator = new SoftAuthenticator(),
  name?: string,
): Promise<RegisteredPasskey> {
  const server = app.getHttpServer();
  const options = await request(server)
    .post('/api/auth/passkeys/registration/options')
    .set(user.auth)
    .expect(200);
  const response = authenticator.register(options.body as CreationOptions);
  const created = await request(server)
    .post('/api/auth/passkeys/registration')
    .set(user.auth)
    .send({ response, ...(name === undefined ? {} : { name }) })
    .expect(201);
  return { id: created.body.id as string, credentialId: response.id, authenticator };
}

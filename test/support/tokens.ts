import jwt from 'jsonwebtoken';
import type { SignOptions } from 'jsonwebtoken';
import { TEST_JWT_SECRET } from './app.js';

export const TEST_ISSUER = 'guardhouse';
export const TEST_AUDIENCE = 'guardhouse-api';

/** Signs a token like the app does (HS256, test secret, issuer, audience), with overrides. */
export function forgeToken(
  payload: Record<string, unknown>,
  options: SignOptions & { secret?: string } = {},
): string {
  const { secret = TEST_JWT_SECRET, ...rest } = options;
  return jwt.sign(payload, secret, {
    algorithm: 'HS256',
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    expiresIn: 600,
    ...rest,
  });
}

const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An unsigned token (`alg: none`) with otherwise valid claims. */
export function unsignedToken(payload: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({
    iss: TEST_ISSUER,
    aud: TEST_AUDIENCE,
    iat: now,
    exp: now + 600,
    ...payload,
  })}.`;
}

/** Decodes a token's payload without verifying it. */
export function decodePayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

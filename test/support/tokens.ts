import { createHmac } from 'node:crypto';

import type { SignOptions } from 'jsonwebtoken';
import jwt from 'jsonwebtoken';

import { TEST_JWT_SECRET } from './app.js';

export const TEST_ISSUER = 'guardhouse';
export const TEST_AUDIENCE = 'guardhouse-api';
/** The header type the app puts on (and requires of) access tokens (RFC 9068). */
export const ACCESS_TOKEN_TYP = 'at+jwt';

/**
 * Signs a token like the app does (HS256, test secret, issuer, audience, `typ: at+jwt`), with
 * overrides. An option set to `undefined` is left out (`expiresIn: undefined` → no `exp`);
 * `typ: null` leaves the header without `typ`.
 */
export function forgeToken(
  payload: Record<string, unknown>,
  options: SignOptions & { secret?: string; typ?: string | null } = {},
): string {
  const { secret = TEST_JWT_SECRET, typ = ACCESS_TOKEN_TYP, ...rest } = options;
  const signOptions: SignOptions = {
    algorithm: 'HS256',
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    expiresIn: 600,
    ...rest,
  };
  const defined = Object.fromEntries(
    Object.entries(signOptions).filter(([, value]) => value !== undefined),
  ) as SignOptions;
  // jsonwebtoken merges `header` over its own `{ alg, typ: 'JWT' }`; an undefined typ is dropped.
  const header = { alg: defined.algorithm ?? 'HS256', typ: typ ?? undefined };
  return jwt.sign(payload, secret, { ...defined, header });
}

const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An unsigned token (`alg: none`) with otherwise valid claims. */
export function unsignedToken(payload: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: 'none', typ: ACCESS_TOKEN_TYP })}.${b64({
    iss: TEST_ISSUER,
    aud: TEST_AUDIENCE,
    iat: now,
    exp: now + 600,
    ...payload,
  })}.`;
}

/**
 * An HS256 token over exactly this header and payload, for claims jsonwebtoken refuses to sign
 * (a string `iat`, say).
 */
export function signRaw(
  payload: Record<string, unknown>,
  header: Record<string, unknown> = { alg: 'HS256', typ: ACCESS_TOKEN_TYP },
  secret = TEST_JWT_SECRET,
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** Decodes a token's header without verifying it. */
export function decodeHeader(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));
}

/** Decodes a token's payload without verifying it. */
export function decodePayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

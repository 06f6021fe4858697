import type { AuthMethod } from './core/auth-methods.js';
import { isAuthMethod } from './core/auth-methods.js';

/**
 * The shape of the kit's access tokens (RFC 9068 header type, RFC 8725 explicit typing and claim
 * checks). Signing sets the type; verification requires it and every claim, so no other JWT signed
 * with the same key (an ID token, a token of another kind or version) passes as an access token.
 */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/**
 * Tolerated clock difference between the instance that signed a token and the one verifying it,
 * for `iat` only: 30 s absorbs NTP-synced hosts without letting a token be pre-dated meaningfully.
 */
export const CLOCK_SKEW_SECONDS = 30;

export interface AccessTokenPayload {
  sub: string;
  sid: string;
  iat: number;
  exp: number;
  iss: string;
  aud: string;
  /**
   * When the session last authenticated its user (seconds, RFC 9068 §2.2.1), and how (`amr`).
   * Absent from tokens issued before they existed: such a token never counts as recent.
   */
  auth_time?: number;
  amr?: AuthMethod[];
}

/** RFC 9068 §4: `at+jwt` or its full media type; media types compare case-insensitively. */
export function isAccessTokenType(typ: unknown): boolean {
  if (typeof typ !== 'string') return false;
  const type = typ.toLowerCase();
  return type === ACCESS_TOKEN_TYPE || type === `application/${ACCESS_TOKEN_TYPE}`;
}

/**
 * True when the (already signature-, issuer- and audience-checked) payload has numeric `iat` and
 * `exp` within one access-token lifetime, `exp` still ahead, `iat` not in the future, string
 * `sub`/`sid`, and (when present) a numeric `auth_time` not after `iat` and a non-empty `amr` of
 * known values. Time-dependent, so checked again each time a remembered token is used.
 */
export function hasAccessTokenClaims(
  payload: Record<string, unknown>,
  accessTtlSeconds: number,
  nowSeconds = Date.now() / 1000,
): payload is Record<string, unknown> & AccessTokenPayload {
  const { iat, exp, sub, sid, auth_time: authTime, amr } = payload;
  if (typeof sub !== 'string' || typeof sid !== 'string') return false;
  if (!Number.isFinite(iat) || !Number.isFinite(exp)) return false;
  const issued = iat as number;
  const expires = exp as number;
  if (authTime !== undefined && !(Number.isFinite(authTime) && (authTime as number) <= issued)) {
    return false;
  }
  if (amr !== undefined && !(Array.isArray(amr) && amr.length > 0 && amr.every(isAuthMethod))) {
    return false;
  }
  return (
    issued <= nowSeconds + CLOCK_SKEW_SECONDS &&
    nowSeconds - issued <= accessTtlSeconds &&
    expires > nowSeconds &&
    expires > issued &&
    expires - issued <= accessTtlSeconds
  );
}

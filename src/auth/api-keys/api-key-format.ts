import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * `gdk_<id>_<secret><crc>`: a fixed prefix secret scanners can match (no other product uses
 * `gdk_`), a public id (12 base62 characters, about 71 bits: the key's name in the database, in
 * lists and in logs), a 256-bit random secret (43 base62 characters) and a CRC-32 of everything
 * before it (6 base62 characters), so a mistyped or truncated key is refused without a database
 * read. The checksum protects against typos, not forgery: the HMAC of the secret does that.
 */
export const API_KEY_PREFIX = 'gdk_';
const ID_LENGTH = 12;
const SECRET_LENGTH = 43;
const CRC_LENGTH = 6;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export const API_KEY_ID_PATTERN = /^[0-9A-Za-z]{12}$/;
const KEY_PATTERN = /^gdk_([0-9A-Za-z]{12})_([0-9A-Za-z]{43})([0-9A-Za-z]{6})$/;
export const API_KEY_LENGTH = API_KEY_PREFIX.length + ID_LENGTH + 1 + SECRET_LENGTH + CRC_LENGTH;

/** `length` uniformly random base62 characters (rejection sampling: no modulo bias). */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 4 × 62: bytes at or above it would favour the first characters.
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

/** A number as exactly `width` base62 digits (a CRC-32 fits in 6: 62^6 > 2^32). */
function base62Fixed(value: number, width: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < width; i++) {
    out = BASE62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

const checksum = (body: string): string => base62Fixed(crc32(body), CRC_LENGTH);

export interface ParsedApiKey {
  id: string;
  secret: string;
}

/** The key with this id and secret (its checksum appended). */
export function formatApiKey(id: string, secret: string): string {
  const body = `${API_KEY_PREFIX}${id}_${secret}`;
  return body + checksum(body);
}

/** A new key: its id, its secret (only its HMAC is stored) and the full key shown once. */
export function generateApiKey(): ParsedApiKey & { key: string } {
  const id = randomBase62(ID_LENGTH);
  const secret = randomBase62(SECRET_LENGTH);
  return { id, secret, key: formatApiKey(id, secret) };
}

/** Whether a bearer credential is meant as an API key (then it is never parsed as a JWT). */
export const looksLikeApiKey = (credential: string): boolean =>
  credential.startsWith(API_KEY_PREFIX);

/** The id and secret of a well-formed key with a correct checksum; null otherwise (no I/O). */
export function parseApiKey(key: string): ParsedApiKey | null {
  if (key.length !== API_KEY_LENGTH) return null;
  const match = KEY_PATTERN.exec(key);
  if (!match) return null;
  const [, id, secret, crc] = match;
  if (checksum(key.slice(0, key.length - CRC_LENGTH)) !== crc) return null;
  return { id, secret };
}

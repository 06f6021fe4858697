import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What a secret looks like, for checks that stored or logged data holds none: JWTs, bcrypt
 * hashes, hex digests, random tokens (refresh tokens, mfaTokens, mailed link tokens: 43
 * base64url characters), six-digit codes, recovery codes, and the passwords the tests use.
 */

export interface SecretFinding {
  /** Where in the value, e.g. `detail.email`. */
  path: string;
  why: string;
  value: string;
}

const SHAPES: [RegExp, string][] = [
  [/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/, 'a JWT'],
  [/\$2[abxy]?\$\d{2}\$/, 'a bcrypt hash'],
  [/[0-9a-fA-F]{32,}/, 'a hex digest or key'],
  [/^\d{6}$/, 'a six-digit code'],
  // The recovery-code alphabet (no i, l, o, u): two groups of five, not inside a longer word
  // (base64url ids count as words: `…X_Et6bx-YDccw`, the end of a session id, is none).
  [
    /(?:^|[^a-z0-9_-])[a-hjkmnp-tv-z0-9]{5}-[a-hjkmnp-tv-z0-9]{5}(?:$|[^a-z0-9_-])/i,
    'a recovery code',
  ],
];
const TOKEN_RUN = /[A-Za-z0-9_-]{32,}/g;
/** Field names that only a secret would have. */
const SECRET_KEY =
  /pass(word)?|secret|token|hash|otp|^code$|recoverycode|apikey|cookie|authorization/i;

/**
 * A random token: a base64url run of 40 characters or more (the kit's tokens have 43), or of 32
 * or more mixing upper-case letters, lower-case letters and digits.
 */
function hasRandomToken(text: string): boolean {
  for (const [run] of text.matchAll(TOKEN_RUN)) {
    if (run.length >= 40 || (/[A-Z]/.test(run) && /[a-z]/.test(run) && /\d/.test(run))) {
      return true;
    }
  }
  return false;
}

function stringFindings(text: string, passwords: readonly string[]): string[] {
  const why: string[] = [];
  for (const [shape, name] of SHAPES) if (shape.test(text)) why.push(name);
  if (hasRandomToken(text)) why.push('a random token');
  for (const password of passwords) {
    // Short or plain-word passwords only as the whole value: "password" is part of harmless words.
    const distinctive = password.length >= 8 && /[^a-z ]/.test(password);
    if (text === password || (distinctive && text.includes(password))) {
      why.push('a password the tests use');
      break;
    }
  }
  return why;
}

/** Every place in `value` (any depth) that looks like a secret. */
export function findSecrets(
  value: unknown,
  passwords: readonly string[],
  path = '',
): SecretFinding[] {
  if (typeof value === 'string') {
    return stringFindings(value, passwords).map((why) => ({ path, why, value }));
  }
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 100_000 && value <= 999_999
      ? [{ path, why: 'a six-digit code', value: String(value) }]
      : [];
  }
  if (value === null || typeof value !== 'object') return [];
  const findings: SecretFinding[] = [];
  for (const [key, item] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (SECRET_KEY.test(key)) findings.push({ path: at, why: 'a secret field name', value: key });
    findings.push(...findSecrets(item, passwords, at));
  }
  return findings;
}

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/**
 * The password literals in the test sources (`password: '…'`, `newPassword: '…'`,
 * `…_PASSWORD = '…'`): whatever a test may have sent as a password.
 */
export function passwordsInTests(root = join(process.cwd(), 'test')): string[] {
  const found = new Set<string>();
  const literal = /password\w*['"]?\s*[:=]\s*'([^'\\\n]{6,})'/gi;
  for (const file of testFiles(root)) {
    for (const [, value] of readFileSync(file, 'utf8').matchAll(literal)) found.add(value);
  }
  return [...found];
}

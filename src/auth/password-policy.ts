import { dictionary } from '@zxcvbn-ts/language-common';

/**
 * `length` (default): ASVS 5.0 (6.2) and NIST 800-63B — a minimum length, a generous maximum,
 * any script, and no common passwords; no composition rules, which push people towards
 * `Password1!`. `classes` adds the book-library seed's rule (a lower-case and an upper-case letter,
 * a digit and a symbol) for teams whose own policy still requires it.
 */
export type PasswordPolicy = 'length' | 'classes';
export const PASSWORD_POLICIES: readonly PasswordPolicy[] = ['length', 'classes'];

export const MIN_PASSWORD_LENGTH = 8;
/** In Unicode code points (not UTF-16 units or bytes): 128 CJK characters or emoji fit. */
export const MAX_PASSWORD_LENGTH = 128;

export const PASSWORD_RULES =
  `${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters of any script (spaces too: a ` +
  'passphrase such as "correct horse battery staple" is fine); common passwords, also with ' +
  'digits or symbols appended, are refused. With PASSWORD_POLICY=classes it must also contain a ' +
  'lower-case letter, an upper-case letter, a digit and a symbol.';

/** zxcvbn-ts's list of ~49,000 passwords most found in breaches, lower-case. */
const COMMON_PASSWORDS: ReadonlySet<string> = new Set(dictionary['passwords-common']);

/** One digit, punctuation mark, symbol or space: what people append to a word (`Password1!`). */
const APPENDED_CHAR = /^[\p{Nd}\p{P}\p{S}\s]$/u;

/**
 * `text` without its trailing run of APPENDED_CHAR. A loop from the end, not `/[...]+$/`: that
 * regex retries from every position of a long run that is not at the end, quadratic in it.
 */
function withoutAppended(text: string): string {
  const chars = [...text];
  let end = chars.length;
  while (end > 0 && APPENDED_CHAR.test(chars[end - 1])) end -= 1;
  return chars.slice(0, end).join('');
}

export const codePointLength = (text: string): number => [...text].length;

/** True when the password, ignoring case and anything appended to a word, is on the list. */
export function isCommonPassword(password: string): boolean {
  // Nothing that long is on the list, and a longer one is refused for its length anyway.
  if (codePointLength(password) > MAX_PASSWORD_LENGTH) return false;
  const lower = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lower)) return true;
  const stem = withoutAppended(lower);
  return stem !== lower && stem.length > 0 && COMMON_PASSWORDS.has(stem);
}

const CLASS_RULES: [RegExp, string][] = [
  [/\p{Ll}/u, 'a lower-case letter'],
  [/\p{Lu}/u, 'an upper-case letter'],
  [/\p{Nd}/u, 'a digit'],
  [/[^\p{L}\p{Nd}\s]/u, 'a symbol'],
];

/** What the policy's extra rules find missing, as messages naming `field`; empty when none. */
export function policyViolations(
  policy: PasswordPolicy,
  password: string,
  field: string,
): string[] {
  if (policy !== 'classes') return [];
  return CLASS_RULES.filter(([pattern]) => !pattern.test(password)).map(
    ([, what]) => `${field} must contain ${what}`,
  );
}

/**
 * Everything the policy finds wrong with `password`, as messages naming `field` (empty when it is
 * fine): length, the common list, and the `classes` rules. For passwords that do not come through
 * a DTO (the configured admin's, checked at start-up); the messages never repeat the password.
 */
export function passwordProblems(
  policy: PasswordPolicy,
  password: string,
  field: string,
): string[] {
  const length = codePointLength(password);
  if (length < MIN_PASSWORD_LENGTH) {
    return [`${field} must be at least ${MIN_PASSWORD_LENGTH} characters long`];
  }
  if (length > MAX_PASSWORD_LENGTH) {
    return [`${field} must be at most ${MAX_PASSWORD_LENGTH} characters long`];
  }
  const problems: string[] = [];
  if (isCommonPassword(password)) {
    problems.push(`${field} is too common (it is on a list of passwords found in breaches)`);
  }
  return [...problems, ...policyViolations(policy, password, field)];
}

/**
 * Field names whose values never reach a log line, compared case-insensitively at any depth.
 * Headers are listed too, for objects that carry raw request headers.
 */
export const SECRET_FIELDS: readonly string[] = [
  'password',
  'currentPassword',
  'newPassword',
  'accessToken',
  'refreshToken',
  'authorization',
  'cookie',
  'set-cookie',
];

export const REDACTED = '[REDACTED]';

const secretFields = new Set(SECRET_FIELDS.map((name) => name.toLowerCase()));

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function censor(value: unknown, ancestors: Set<object>): unknown {
  if (value === null || typeof value !== 'object' || ancestors.has(value)) return value;
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      value.forEach((item: unknown, index) => {
        const censored = censor(item, ancestors);
        if (censored !== item) {
          copy ??= [...(value as unknown[])];
          copy[index] = censored;
        }
      });
      return copy ?? value;
    }
    // Class instances (errors, dates, buffers, ObjectIds) have their own serializers.
    if (!isPlainObject(value)) return value;
    let copy: Record<string, unknown> | undefined;
    for (const key of Object.keys(value)) {
      const item = value[key];
      const censored = secretFields.has(key.toLowerCase()) ? REDACTED : censor(item, ancestors);
      if (censored !== item) {
        copy ??= { ...value };
        copy[key] = censored;
      }
    }
    return copy ?? value;
  } finally {
    ancestors.delete(value);
  }
}

/**
 * Replaces the value of every secret field (see `SECRET_FIELDS`) in a log object, at any depth,
 * with `[REDACTED]`. Copies only the branches it changes and never mutates its input; returns
 * the input itself when there is nothing to hide.
 */
export function censorSecrets<T extends object>(value: T): T {
  return censor(value, new Set()) as T;
}

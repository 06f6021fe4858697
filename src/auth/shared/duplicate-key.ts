import { ConflictException } from '@nestjs/common';

/** MongoDB's (and FerretDB's) "duplicate key" error on insert or upsert: a unique index said no. */
export const DUPLICATE_KEY = 11000;

export function isDuplicateKeyError(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === DUPLICATE_KEY
  );
}

/**
 * Runs a write that a unique index guards, answering 409 `message` when the index refuses it.
 * On insert both MongoDB and FerretDB say 11000; on an update into a duplicate FerretDB says code 1
 * (InternalError) instead, so a write that can rename passes `taken`, which looks again after any
 * other failure: if the value is held by another document now, that was the cause.
 */
export async function saveOr409<T>(
  write: () => Promise<T>,
  message: string,
  taken?: () => Promise<boolean>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isDuplicateKeyError(error) || (taken !== undefined && (await taken()))) {
      throw new ConflictException(message);
    }
    throw error;
  }
}

import { ConflictException } from '@nestjs/common';
import type { Document, QueryFilter } from 'mongoose';
import { trusted } from 'mongoose';

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

/** The one read a collision check needs of a document's model. */
interface UniqueLookup {
  exists(filter: QueryFilter<unknown>): Promise<unknown>;
}

/**
 * Saves `doc`, answering 409 `message` when the write collides with another document on the
 * unique `key` (e.g. `['owner', 'title']`: a title is unique per owner). When the save changes a
 * path of the key, a failure other than 11000 is a collision if another document now holds the
 * document's values for the key (FerretDB's code 1 on update, see saveOr409).
 */
export async function saveUniqueOr409<D extends Document>(
  doc: D,
  key: readonly string[],
  message: string,
): Promise<D> {
  const renaming = key.some((path) => doc.isModified(path));
  const taken = async () => {
    const values = Object.fromEntries(key.map((path) => [path, doc.get(path) as unknown]));
    const model = doc.$model() as unknown as UniqueLookup;
    const holder = await model.exists({ ...values, _id: trusted({ $ne: doc._id }) });
    return holder !== null;
  };
  await saveOr409(() => doc.save(), message, renaming ? taken : undefined);
  return doc;
}

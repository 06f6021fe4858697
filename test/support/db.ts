import type { INestApplication } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';

/** The app's own Mongoose connection, to read collections directly. */
export function connectionOf(app: INestApplication): Connection {
  return app.get<Connection>(getConnectionToken());
}

/** Every document of each collection, serialized in `_id` order (missing collections are []). */
export async function snapshot(
  app: INestApplication,
  collections: readonly string[],
): Promise<Record<string, string>> {
  const db = connectionOf(app);
  const entries = await Promise.all(
    collections.map(
      async (name) =>
        [
          name,
          JSON.stringify(await db.collection(name).find().sort({ _id: 1 }).toArray()),
        ] as const,
    ),
  );
  return Object.fromEntries(entries);
}

/** The collections an attack must never touch, unless a test says otherwise. */
export const ALL_COLLECTIONS = [
  'users',
  'sessions',
  'refresh_tokens',
  'login_failures',
  'admin_locks',
  'user_security_changes',
  'movies',
  'books',
  'book_covers',
  'todos',
  'bucketlists',
] as const;

/**
 * Reads the collections now; the returned function asserts they are exactly the same later.
 * Use it around a hostile request: refused AND nothing changed.
 */
export async function expectUnchangedAfter(
  app: INestApplication,
  collections: readonly string[] = ALL_COLLECTIONS,
): Promise<() => Promise<void>> {
  const before = await snapshot(app, collections);
  return async () => {
    expect(await snapshot(app, collections)).toEqual(before);
  };
}

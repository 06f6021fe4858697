import type { INestApplication } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';

import { MailService } from '../../src/auth/mail/mail.service.js';

/** The app's own Mongoose connection, to read collections directly. */
export function connectionOf(app: INestApplication): Connection {
  return app.get<Connection>(getConnectionToken());
}

/**
 * Waits for the work the app deferred past its answers (mail jobs, and the tokens a verification
 * mail links to), so that a snapshot sees what the previous request wrote.
 */
export function settled(app: INestApplication): Promise<void> {
  return app.get(MailService, { strict: false }).idle();
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

/**
 * Collections a refused request may write, because they record the request itself rather than
 * anything it asked for. The one list to edit by hand, and only for such bookkeeping: every other
 * collection is watched.
 */
export const REQUEST_BOOKKEEPING: Readonly<Record<string, string>> = {
  rate_limit_slots: 'one document per request the per-IP limit admits, refused later or not',
  rate_limit_hits: 'one document per share of its limit an API key claims, refused or not',
  session_activity: 'when a session was last used: any authenticated request, refused or not',
  audit_sweeps: "the audit retention's hourly lease: taken by a timer, whatever the request",
};

/**
 * Collections a refused request may add to, but where nothing already there may change or go:
 * the audit trail records refusals too (a failed login, a denied access).
 */
export const APPEND_ONLY: Readonly<Record<string, string>> = {
  audit_events: 'the audit trail: refusals are events too',
};

/**
 * The collections an attack must never touch: those of every model the app registered on its
 * connection (the kit's and the resources', whoever adds them) and any other collection the
 * database holds, minus REQUEST_BOOKKEEPING. Derived, so a new model is watched without an edit.
 */
export async function watchedCollections(app: INestApplication): Promise<string[]> {
  const db = connectionOf(app);
  const registered = Object.values(db.models).map((model) => model.collection.collectionName);
  const existing = (await db.listCollections()).map((info) => info.name);
  return [...new Set([...registered, ...existing])]
    .filter((name) => !(name in REQUEST_BOOKKEEPING) && !name.startsWith('system.'))
    .sort();
}

/** Documents of `before` that are missing or different in `after` (both as snapshot() writes them). */
function rewritten(before: string, after: string): unknown[] {
  const kept = new Set((JSON.parse(after) as unknown[]).map((doc) => JSON.stringify(doc)));
  return (JSON.parse(before) as unknown[]).filter((doc) => !kept.has(JSON.stringify(doc)));
}

/**
 * The collections that changed between two snapshots of the same app (a collection missing from
 * `before` was empty): any difference, or for an APPEND_ONLY collection a document that changed
 * or went (new ones are allowed).
 */
export function changedCollections(
  before: Record<string, string>,
  after: Record<string, string>,
): string[] {
  return Object.keys(after).filter((name) => {
    const was = before[name] ?? '[]';
    if (name in APPEND_ONLY) return rewritten(was, after[name]).length > 0;
    return after[name] !== was;
  });
}

/**
 * Reads the collections now; the returned function asserts they are the same later. Use it
 * around a hostile request: refused AND nothing changed. Without a list, every watched collection
 * (watchedCollections) is compared, one created meanwhile included, and the APPEND_ONLY ones may
 * only have grown.
 */
export async function expectUnchangedAfter(
  app: INestApplication,
  collections?: readonly string[],
): Promise<() => Promise<void>> {
  await settled(app);
  const names = collections ?? (await watchedCollections(app));
  const before = await snapshot(app, names);
  return async () => {
    // What the request deferred past its answer counts as its doing.
    await settled(app);
    if (collections) {
      expect(await snapshot(app, collections)).toEqual(before);
      return;
    }
    const after = await snapshot(app, [...new Set([...names, ...(await watchedCollections(app))])]);
    const changed = changedCollections(before, after);
    // The documents themselves, so that a failure shows what changed.
    const pick = (from: Record<string, string>) =>
      Object.fromEntries(changed.map((name) => [name, from[name] ?? '[]']));
    expect(pick(after)).toEqual(pick(before));
    expect(changed).toEqual([]);
  };
}

import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import { ServiceUnavailableException } from '@nestjs/common';
import type { Connection, Model } from 'mongoose';
import { trusted } from 'mongoose';

import { RateLimitHit, RateLimitHitSchema } from './rate-limit-hit.schema.js';

type Result = { current: number; ttl: number };

/** Expired hits are deleted at least this often, so counts read little more than one window. */
const MAX_CLEANUP_INTERVAL_MS = 10_000;
type Callback = (error: Error | null, result?: Result) => void;

/**
 * A @fastify/rate-limit store in MongoDB, so that N instances allow the configured rate and not
 * N times it. A sliding window: each request inserts one document, then counts the client's
 * documents of the last `timeWindow` ms. A request whose insert is the r-th in the window counts
 * at least r, so at most `max` pass however many instances race (FerretDB's updates are not
 * atomic, inserts are); one over the limit takes its document back. Two database operations for
 * a request within the limit (on FerretDB a count reads the whole collection, so the fewer the
 * better, and the collection is kept to about one window of documents).
 */
export function mongoRateLimitCounter(
  connection: Connection,
): (key: string, timeWindow: number, max: number) => Promise<Result> {
  const hits: Model<RateLimitHit> =
    (connection.models[RateLimitHit.name] as Model<RateLimitHit> | undefined) ??
    connection.model(RateLimitHit.name, RateLimitHitSchema);
  let nextCleanup = 0;

  return async function count(key: string, timeWindow: number, max: number): Promise<Result> {
    const now = Date.now();
    if (now >= nextCleanup) {
      nextCleanup = now + Math.min(timeWindow, MAX_CLEANUP_INTERVAL_MS);
      // Best effort: a failed cleanup only leaves documents that no window counts any more.
      hits.deleteMany({ expiresAt: trusted({ $lt: new Date(now) }) }).catch(() => undefined);
    }
    const at = new Date(now);
    const [{ _id: id }] = await hits.insertMany(
      [{ key, at, expiresAt: new Date(now + timeWindow) }],
      { lean: true },
    );
    // Operators are marked trusted: the connection sanitizes filters.
    const inWindow = { key, at: trusted({ $gt: new Date(now - timeWindow) }) };
    const current = await hits.countDocuments(inWindow);
    if (current <= max) return { current, ttl: timeWindow };
    // Over the limit: not counted. The client may send again once enough of its hits have left
    // the window.
    await hits.deleteOne({ _id: id });
    const opening = await hits
      .findOne(inWindow, { at: 1 })
      .sort({ at: 1 })
      .skip(Math.max(0, current - 1 - max))
      .lean();
    const ttl = opening ? opening.at.getTime() + timeWindow - now : timeWindow;
    return { current, ttl: Math.max(ttl, 1) };
  };
}

/**
 * The per-IP limit's store for @fastify/rate-limit (see mongoRateLimitCounter); the API-key limit
 * shares the counter.
 */
export function mongoRateLimitStore(connection: Connection): FastifyRateLimitStoreCtor {
  const count = mongoRateLimitCounter(connection);

  class MongoRateLimitStore implements FastifyRateLimitStore {
    private readonly prefix: string;

    // The plugin constructs the store with its settings, which this store does not need.
    constructor(_settings?: unknown, prefix = '') {
      this.prefix = prefix;
    }

    // @fastify/rate-limit passes the window and the limit after the callback.
    incr(
      key: string,
      callback: Callback,
      timeWindow = 60_000,
      max = Number.MAX_SAFE_INTEGER,
    ): void {
      count(this.prefix + key, timeWindow, max).then(
        (result) => callback(null, result),
        // Fail closed with a 503 (not a 500): the limit cannot be checked without the database.
        () => callback(new ServiceUnavailableException('Rate limit store unavailable')),
      );
    }

    /** A route with a limit of its own counts apart (none configures one today). */
    child(settings: Parameters<FastifyRateLimitStore['child']>[0]): FastifyRateLimitStore {
      // Typed as the route, but the plugin passes its merged settings with the route inside.
      const route = (settings as { routeInfo?: { method?: unknown; url?: string } }).routeInfo;
      return new MongoRateLimitStore(
        undefined,
        `${this.prefix}${String(route?.method)}${route?.url}-`,
      );
    }
  }
  return MongoRateLimitStore;
}

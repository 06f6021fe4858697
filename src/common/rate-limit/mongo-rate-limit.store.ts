import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import { ServiceUnavailableException } from '@nestjs/common';
import type { Connection, Model, Schema } from 'mongoose';
import { trusted } from 'mongoose';

import type { SharedRateLimitCounter } from '../../auth/index.js';
import { isDuplicateKeyError } from '../../auth/index.js';
import { RateLimitHit, RateLimitHitSchema } from './rate-limit-hit.schema.js';
import { RateLimitSlot, RateLimitSlotSchema } from './rate-limit-slot.schema.js';

type Result = Awaited<ReturnType<SharedRateLimitCounter>>;

/** Expired documents are deleted at least this often, so reads meet little more than a window. */
const MAX_CLEANUP_INTERVAL_MS = 10_000;
type Callback = (error: Error | null, result?: Result) => void;

/** The connection's model of that name, registered on first use. */
function modelOn<T>(connection: Connection, name: string, schema: Schema<T>): Model<T> {
  return (connection.models[name] as Model<T> | undefined) ?? connection.model<T>(name, schema);
}

/**
 * Deletes documents whose `expiresAt` passed over `grace` ms ago, at most once a window (and at
 * least every MAX_CLEANUP_INTERVAL_MS while requests come). Best effort: a failed sweep only
 * leaves documents that no window counts any more.
 */
function expirySweeper<T extends { expiresAt: Date }>(
  model: Model<T>,
): (now: number, timeWindow: number, grace: number) => void {
  let next = 0;
  return (now, timeWindow, grace) => {
    if (now < next) return;
    next = now + Math.min(timeWindow, MAX_CLEANUP_INTERVAL_MS);
    model.deleteMany({ expiresAt: trusted({ $lt: new Date(now - grace) }) }).catch(() => undefined);
  };
}

/**
 * A counter in MongoDB, so that N instances allow the configured rate and not N times it, with
 * an exact `current` (the per-key API limit reads it to size its claims, see KeyRateLimiter).
 * A sliding window: each request inserts one document, then counts the client's documents of the
 * last `timeWindow` ms. A request whose insert is the r-th in the window counts at least r, so at
 * most `max` pass however many instances race (FerretDB's updates are not atomic, inserts are);
 * one over the limit takes its document back. Two database operations for a request within the
 * limit; on FerretDB a count reads the whole collection, which is kept to about one window of
 * documents (the API-key limit claims rarely; the per-IP limit counts without a count, see
 * mongoSlidingWindowCounter).
 */
export function mongoRateLimitCounter(connection: Connection): SharedRateLimitCounter {
  const hits = modelOn(connection, RateLimitHit.name, RateLimitHitSchema);
  const sweep = expirySweeper(hits);

  return async function count(key: string, timeWindow: number, max: number): Promise<Result> {
    const now = Date.now();
    sweep(now, timeWindow, 0);
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
 * What an instance knows of a client's numbers: the next free one, trusted until `until`, and
 * until when the client is refused (no database operation needed until then).
 */
interface Head {
  next: number;
  until: number;
  refusedUntil: number;
}

/** Clients whose next number an instance keeps (past this, it forgets them all and looks again). */
const MAX_KNOWN_CLIENTS = 10_000;
/** Numbers found taken in a row (by other instances) before an instance looks the client up. */
const MAX_COLLISIONS = 8;

/**
 * The per-IP limit's counter: a sliding window without a count. A client's admitted requests are
 * numbered 0, 1, 2… by inserting `<key>|<n>` (see RateLimitSlot): the unique `_id` makes each
 * number go to one request however many instances race. The n-th request is admitted only if the
 * (n - max)-th has left the window, so no window holds more than `max` (the instances' clocks
 * agreeing to well within a window); a refused request inserts nothing. Each admitted request is
 * one insert by `_id`, plus one read by `_id` once the client's numbering has passed `max`; an
 * instance that does not know the client reads its highest number once (an index on MongoDB, a
 * scan on FerretDB, where only `_id` lookups are served without reading the whole collection).
 * A refused client is refused again without a database operation until its window frees a slot.
 *
 * Slots are deleted a whole window after they expire, so the last slot an instance remembers
 * always exists while it trusts that memory: an instance that looks the client up meanwhile
 * continues the same numbering instead of starting a second one at 0. A missing slot is
 * therefore long out of the window.
 *
 * Requests of one client on one instance take their numbers one at a time, so they never
 * collide with each other; when one fails (the database), those queued behind it fail with it
 * rather than each waiting for its own timeout.
 *
 * `current` is exact over the limit (max + 1); within it, an upper bound (at most `max`, the
 * numbers since the window's oldest are not read), so the plugin's remaining-count headers are
 * off on admitted requests.
 */
export function mongoSlidingWindowCounter(connection: Connection): SharedRateLimitCounter {
  const slots = modelOn(connection, RateLimitSlot.name, RateLimitSlotSchema);
  const sweep = expirySweeper(slots);
  const heads = new Map<string, Head>();
  const queues = new Map<string, Promise<Result>>();

  /** The client's next number from the database: one past its highest slot not yet deleted. */
  async function lookUp(key: string): Promise<Head> {
    const last = await slots.findOne({ key }, { n: 1, expiresAt: 1 }).sort({ n: -1 }).lean();
    // Trusted while that slot is in its window; it is deleted only a window later.
    return last
      ? { next: last.n + 1, until: last.expiresAt.getTime(), refusedUntil: 0 }
      : { next: 0, until: 0, refusedUntil: 0 };
  }

  function remember(key: string, head: Head): void {
    if (heads.size >= MAX_KNOWN_CLIENTS && !heads.has(key)) heads.clear();
    heads.set(key, head);
  }

  async function take(key: string, timeWindow: number, max: number): Promise<Result> {
    const start = Date.now();
    if (max < 1) return { current: 1, ttl: timeWindow };
    // A window's grace: see above.
    sweep(start, timeWindow, timeWindow);
    const known = heads.get(key);
    if (known !== undefined && known.refusedUntil > start) {
      return { current: max + 1, ttl: known.refusedUntil - start };
    }
    let head = known !== undefined && known.until > start ? known : await lookUp(key);
    for (let collisions = 0; ;) {
      const n = head.next;
      const now = Date.now();
      if (n >= max) {
        const earlier = await slots.findById(`${key}|${n - max}`, { at: 1 }).lean();
        // Never longer than a window, whatever the clock of the instance that wrote it.
        const opens = earlier ? Math.min(earlier.at.getTime() + timeWindow, now + timeWindow) : 0;
        if (opens > now) {
          remember(key, { ...head, refusedUntil: opens });
          return { current: max + 1, ttl: opens - now };
        }
      }
      try {
        await slots.insertMany(
          [
            {
              _id: `${key}|${n}`,
              key,
              n,
              at: new Date(now),
              expiresAt: new Date(now + timeWindow),
            },
          ],
          { lean: true },
        );
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        // Another instance took n; after a few in a row, look the client up rather than walk.
        collisions += 1;
        if (collisions < MAX_COLLISIONS) {
          head = { next: n + 1, until: head.until, refusedUntil: 0 };
        } else {
          head = await lookUp(key);
          collisions = 0;
        }
        continue;
      }
      remember(key, { next: n + 1, until: now + timeWindow, refusedUntil: 0 });
      return { current: Math.min(n + 1, max), ttl: timeWindow };
    }
  }

  return function count(key: string, timeWindow: number, max: number): Promise<Result> {
    const previous = queues.get(key);
    const result = previous
      ? previous.then(() => take(key, timeWindow, max))
      : take(key, timeWindow, max);
    queues.set(key, result);
    const forget = () => {
      if (queues.get(key) === result) queues.delete(key);
    };
    result.then(forget, forget);
    return result;
  };
}

/** The per-IP limit's store for @fastify/rate-limit (see mongoSlidingWindowCounter). */
export function mongoRateLimitStore(connection: Connection): FastifyRateLimitStoreCtor {
  const count = mongoSlidingWindowCounter(connection);

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

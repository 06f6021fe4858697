import { HttpException, HttpStatus } from '@nestjs/common';

import type { SharedRateLimitCounter } from '../auth.options.js';

/** 429 with the seconds until the key may be used again. */
export class ApiKeyRateLimitException extends HttpException {
  constructor(readonly retryAfterSeconds: number) {
    super(
      {
        statusCode: HttpStatus.TOO_MANY_REQUESTS,
        error: 'Too Many Requests',
        message: `Too many requests with this API key; retry in ${retryAfterSeconds} s`,
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

const WINDOW_MS = 60_000;
const MAX_KEYS = 10_000;

/** In-process sliding window, for kits given no shared counter. */
export function localRateLimitCounter(): SharedRateLimitCounter {
  const hits = new Map<string, number[]>();
  return (key, windowMs, max) => {
    const now = Date.now();
    const recent = (hits.get(key) ?? []).filter((at) => at > now - windowMs);
    if (recent.length >= max) {
      hits.set(key, recent);
      return Promise.resolve({ current: recent.length + 1, ttl: recent[0] + windowMs - now });
    }
    recent.push(now);
    if (hits.size >= MAX_KEYS && !hits.has(key)) hits.clear();
    hits.set(key, recent);
    return Promise.resolve({ current: recent.length, ttl: windowMs });
  };
}

/**
 * `limit` requests per key and minute over every instance sharing `counter`. An instance claims a
 * share of the key's budget (a twentieth of the limit, at least 1) with one hit on the shared
 * counter and spends it locally, so most requests cost no database operation. At most
 * `ceil(limit / share)` claims count in a window, and the last of them is granted only what is
 * left of the limit (`limit - (claims - 1) × share`), so all instances together admit exactly the
 * limit and never more. A share is spent within its claim's window (the counter's `ttl`, at most
 * a minute) or lost.
 */
export class KeyRateLimiter {
  private readonly share: number;
  private readonly claims: number;
  /** What the last claim of a window grants: the rest of the limit, at most a share. */
  private readonly lastShare: number;
  private readonly granted = new Map<string, { left: number; until: number }>();

  constructor(
    private readonly counter: SharedRateLimitCounter,
    limit: number,
  ) {
    this.share = Math.max(1, Math.floor(limit / 20));
    this.claims = Math.ceil(limit / this.share);
    this.lastShare = limit - (this.claims - 1) * this.share;
  }

  /** Nothing (admitted at once), or a promise that settles once a new share was claimed. */
  admit(keyId: string): Promise<void> | undefined {
    const grant = this.granted.get(keyId);
    if (grant && grant.left > 0 && grant.until > Date.now()) {
      grant.left--;
      return undefined;
    }
    return this.claim(keyId);
  }

  private async claim(keyId: string): Promise<void> {
    const now = Date.now();
    const { current, ttl } = await this.counter(`api-key:${keyId}`, WINDOW_MS, this.claims);
    if (current > this.claims) {
      throw new ApiKeyRateLimitException(Math.max(1, Math.ceil(ttl / 1000)));
    }
    const size = current === this.claims ? this.lastShare : this.share;
    if (this.granted.size >= MAX_KEYS) this.granted.clear();
    // This request takes one; the rest is valid while the claim counts in the shared window.
    this.granted.set(keyId, { left: size - 1, until: now + Math.min(WINDOW_MS, ttl) });
  }
}

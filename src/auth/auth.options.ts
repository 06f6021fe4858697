import type { ModuleMetadata } from '@nestjs/common';

import type { AuditLogLine, HostAuditEventType } from './audit/audit-events.js';
import type { SecurityNotices } from './mfa/security-notices.js';
import type { OidcProviderOptions } from './oidc/oidc-settings.js';
import type { PasswordPolicy } from './password-policy.js';

export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256';

/** Everything the auth kit needs; hosts pass it to `AuthModule.forRoot()` / `forRootAsync()`. */
export interface AuthModuleOptions {
  jwt: {
    /** Only this algorithm is accepted when verifying. Default HS256. */
    algorithm?: JwtAlgorithm;
    /** HS256 secret (at least 32 characters). */
    secret?: string;
    /** PEM keys for RS256/ES256. */
    privateKey?: string;
    publicKey?: string;
    issuer: string;
    audience: string;
    /** Access-token lifetime in seconds. Default 900 (15 min). */
    accessTtlSeconds?: number;
  };
  /** Refresh-token (and idle session) lifetime in seconds. Default 7 days. */
  refreshTtlSeconds?: number;
  /**
   * Absolute session lifetime in seconds, counted from login: refreshes slide the idle expiry but
   * never past it, so a stolen refresh token cannot keep a session alive forever. Default 30 days.
   */
  sessionMaxAgeSeconds?: number;
  /**
   * How long a request may trust a cached "user and session are still valid" answer, in ms.
   * Revocation takes effect within this time on every instance. 0 = check the database on every
   * request. Default 5000.
   */
  sessionCacheTtlMs?: number;
  /**
   * `@RecentAuth()` routes (password, email, factors, account deletion, admin role changes and
   * factor resets) need an authentication of the session at most this many seconds old (RFC 9470;
   * `POST /auth/reauthenticate`). Default 300.
   */
  recentAuthMaxAgeSeconds?: number;
  /** Failed-login limits, counted in MongoDB so they hold across instances. */
  loginThrottle?: {
    /**
     * Failures per account from one client (IP address; IPv6 /64) within the window before that
     * client gets 429. Other clients are not affected. Default 5.
     */
    maxFailuresPerAccount?: number;
    /** Failures per client (IP address; IPv6 /64) within the window before 429. Default 20. */
    maxFailuresPerIp?: number;
    /**
     * Failures on one account (from all clients) within the window after which attempts on it
     * are spaced 1 s, 2 s, 4 s … (up to 60 s) instead of locking it. Default 20.
     */
    accountSlowdownAfter?: number;
    /** Default 900 (15 min). */
    windowSeconds?: number;
  };
  /**
   * `length` (default): 8 to 128 characters of any script, no common passwords (ASVS 5.0 /
   * NIST 800-63B). `classes`: also a lower-case and an upper-case letter, a digit and a symbol.
   */
  passwordPolicy?: PasswordPolicy;
  /** bcrypt cost, never below 10. Default 12. */
  bcryptRounds?: number;
  /**
   * The one queue every password hash and compare goes through (login, signup, password change
   * and reset, re-authentication).
   */
  hashing?: {
    /**
     * A request whose password check would wait longer than this is answered at once with 503
     * and Retry-After (never counted as a failed password). Default 5000.
     */
    queueTimeoutMs?: number;
    /** Hashes run at once. Default: one per core, at most libuv's thread pool size minus one. */
    concurrency?: number;
  };
  /**
   * `GET/DELETE /auth/sessions` and the admin's `/users/:id/sessions` routes. Default true;
   * false answers 404 there.
   */
  sessionsApi?: boolean;
  /**
   * TOTP second factor with recovery codes. Off when absent or `enabled: false` (its routes then
   * answer 404 and logins ask for no code).
   */
  mfa?: {
    enabled?: boolean;
    /** AES-256-GCM key for TOTP secrets at rest: 32 bytes as 64 hex digits or base64. Required. */
    encryptionKey?: string;
    /** The issuer name authenticator apps show. Default "Guardhouse". */
    issuer?: string;
    /**
     * Wrong second-factor codes per account in 24 hours, from all clients together, after which
     * only a recovery code (or a password reset by mail) gets in. Recovery-code failures count.
     * Default 10.
     */
    maxFailuresPerDay?: number;
  };
  /** Told about security events (recovery code used, factor turned off); default: nobody. */
  securityNotices?: SecurityNotices;
  /**
   * Created (or promoted) at start-up when both are set; idempotent. The password must pass the
   * signup password policy (`passwordPolicy`): otherwise the application does not start.
   */
  admin?: { email?: string; password?: string; name?: string };
  /**
   * Account mail: password reset, email verification, email change and security notices. Without
   * it those routes answer 404 and nothing is mailed (the kit works as an API without mail).
   */
  mail?: MailOptions;
  /**
   * Unverified accounts get 403 everywhere except `/users/me`, the auth routes and public routes;
   * signup then answers 202 alike for new and taken addresses. Needs `mail`. Default false.
   */
  requireVerifiedEmail?: boolean;
  /** The audit trail of security events (docs/audit.md). */
  audit?: AuditOptions;
  /** API keys for scripts and services (docs/api-keys.md). */
  apiKeys?: ApiKeyOptions;
  /** Sign-in with OpenID Connect providers (docs/oidc.md). Off without providers. */
  oidc?: OidcOptions;
  /** Passkeys (WebAuthn, docs/passkeys.md). Without it (or `enabled: false`) their routes answer 404. */
  passkeys?: PasskeyOptions;
}

/**
 * Counts one hit of `key` in a sliding window shared by every instance (the host's, e.g. kept
 * in its database): `current` hits in the window including this one, `ttl` ms until the window
 * frees a slot.
 */
export type SharedRateLimitCounter = (
  key: string,
  windowMs: number,
  max: number,
) => Promise<{ current: number; ttl: number }>;

export interface ApiKeyOptions {
  /**
   * Server key of the HMAC-SHA-256 stored in place of each key's secret (at least 32 random
   * characters). Without it a random one is used: keys then stop working when the process restarts.
   */
  hashSecret?: string;
  /** Lifetime of a key created without `expiresAt`, in days. Default 90. */
  defaultDays?: number;
  /** Longest lifetime a key may be given, in days. Default 365. */
  maxDays?: number;
  /** Keys one account may hold (expired ones included until purged). Default 25. */
  maxPerUser?: number;
  /** Requests per key and minute, over all instances when `rateLimitCounter` is shared. Default 600. */
  rateLimit?: number;
  /** The shared counter for the per-key limit; default: counted in this process only. */
  rateLimitCounter?: SharedRateLimitCounter;
}

export interface OidcOptions {
  providers: OidcProviderOptions[];
  /**
   * Public URL of the kit's OIDC routes, e.g. `https://app.example.com/api/auth/oidc`: each
   * provider's redirect URI is `<baseUrl>/<id>/callback` (register it at the provider).
   */
  baseUrl: string;
  /** Front-end URLs a sign-in may return to (exact match); the first is the default. */
  redirectAllowlist: string[];
  /** A verified provider email with no account creates one. Default true. */
  signup?: boolean;
  /**
   * An account with a second factor skips it when the provider's ID token says `amr` includes
   * `mfa`. Default false.
   */
  trustProviderMfa?: boolean;
  /**
   * Allow http:// issuers (development, tests). The host refuses it in production unless every
   * issuer is on localhost. Default false.
   */
  allowInsecureRequests?: boolean;
}

export interface PasskeyOptions {
  enabled?: boolean;
  /** The relying party id: your site's domain (`example.com`), which passkeys are bound to. */
  rpId: string;
  /** The name authenticators show. Default "Guardhouse". */
  rpName?: string;
  /** Origins the ceremonies may run on (`https://app.example.com`): the rpId or subdomains of it. */
  origins: string[];
  /** Passkeys one account may register. Default 20. */
  maxPerUser?: number;
}

export interface AuditOptions {
  /** Events older than this many days are deleted (by one instance an hour). Default 365. */
  retentionDays?: number;
  /** Recorded events are written (in one insert) at least this often, in ms. Default 1000. */
  flushIntervalMs?: number;
  /**
   * Events held in memory while the database cannot take them; once full, further events are
   * dropped and counted (log line, `/health` detail) until writes succeed again. Default 10000.
   */
  bufferSize?: number;
  /** Names this process in every event. Default `<hostname>:<pid>`. */
  instanceId?: string;
  /** The host's own event types (declared in `AuditEventDetails`), accepted as `?type=`. */
  eventTypes?: readonly HostAuditEventType[];
  /**
   * Writes each event's log line, e.g. `(line) => pinoLogger.info(line, 'audit event')` for its
   * fields at the top level of a JSON line. Default: Nest's Logger, `log('audit event', line)`
   * (structured params).
   */
  log?: (line: AuditLogLine) => void;
}

export interface MailOptions {
  /** `smtp://` or `smtps://` URL (credentials included). Without it, messages go to `outboxDir`. */
  smtpUrl?: string;
  /** Where each message is written as an `.eml` file (and its link logged) without `smtpUrl`. */
  outboxDir?: string;
  /** The From header, e.g. `Guardhouse <no-reply@example.com>`. */
  from: string;
  /** Base URL of links in mail (never taken from a request's Host). */
  publicUrl: string;
  /** Named in every message. Default `Guardhouse`. */
  productName?: string;
  /** Sending attempts per message before it is given up (and logged). Default 3. */
  attempts?: number;
  /** Wait before the second attempt in ms, doubled for each later one. Default 1000. */
  retryDelayMs?: number;
  /**
   * Mail sent on request (reset, verification, signup notice, email change) per address and kind
   * within the window. Default 5.
   */
  maxPerAccount?: number;
  /** Mail-sending and token requests per client IP (IPv6 /64) within the window. Default 20. */
  maxPerIp?: number;
  /** Default 900 (15 min). */
  windowSeconds?: number;
}

export interface AuthModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  // Nest's own signature for injection tokens and factories.
  inject?: (string | symbol | (abstract new (...args: never[]) => unknown))[];
  useFactory: (...args: never[]) => AuthModuleOptions | Promise<AuthModuleOptions>;
}

export const AUTH_OPTIONS = Symbol('AUTH_OPTIONS');

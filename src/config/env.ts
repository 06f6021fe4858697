import { randomBytes } from 'node:crypto';

import proxyAddr from '@fastify/proxy-addr';
import { plainToInstance, Transform, Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsEmail,
  IsEnum,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';

import type { PasswordPolicy } from '../auth/index.js';
import {
  MIN_SECRET_LENGTH,
  parseEncryptionKey,
  PASSWORD_POLICIES,
  passwordProblems,
} from '../auth/index.js';

export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256';

export enum NodeEnv {
  Development = 'development',
  Production = 'production',
  Test = 'test',
}

const toBoolean = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? ['1', 'true', 'yes', 'on'].includes(value.toLowerCase()) : value;

const toPem = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.replace(/\\n/g, '\n') : value;

const toList = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)
    : value;

// ---- TRUST_PROXY (issue 10, proxies) ----
const toTrustProxy = ({ value }: { value: unknown }): unknown => {
  if (typeof value !== 'string') return value;
  const word = value.trim().toLowerCase();
  if (['false', 'no', 'off'].includes(word)) return false;
  if (['true', 'yes', 'on'].includes(word)) return true;
  return value.split(',').map((item) => item.trim());
};
// ---- end TRUST_PROXY ----

/**
 * Every setting the API reads, validated once at start-up. `.env.example` documents each one.
 * Values come from the process environment (and `.env` when present).
 */
export class Env {
  @IsEnum(NodeEnv)
  NODE_ENV: NodeEnv = NodeEnv.Development;

  /** Interface to listen on; 0.0.0.0 exposes the API to the network. */
  @IsString()
  HOST = '127.0.0.1';

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  /** MongoDB connection string, including the database name. */
  @IsString()
  @Matches(/^mongodb(\+srv)?:\/\//, {
    message: 'MONGODB_URI must start with mongodb:// or mongodb+srv://',
  })
  MONGODB_URI!: string;

  // ---- MongoDB connection (issue 12) ----
  // Write concern, read preference and retryable writes come from MONGODB_URI's options
  // (`?w=majority&readPreference=primary&retryWrites=true`, MongoDB's defaults on a replica set).
  /**
   * Build the declared indexes (and create collections) at start-up. Default: on, off in
   * production, where `npm run db:indexes` builds them as a deploy step (see docs/deploy.md).
   */
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  MONGODB_AUTO_INDEX!: boolean;

  /** Most connections one API process opens to each MongoDB server (driver maxPoolSize). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000)
  MONGODB_POOL_SIZE = 100;

  /** How long an operation waits for a usable server (a primary for writes) before failing. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(120_000)
  MONGODB_SERVER_SELECTION_TIMEOUT_MS = 5000;

  /** How long a connection waits for one answer before it is closed; 0 = no limit. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  MONGODB_SOCKET_TIMEOUT_MS = 30_000;
  // ---- end MongoDB connection ----

  /** Largest accepted JSON body in bytes (413 beyond). */
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  @Max(10 * 1024 * 1024)
  BODY_LIMIT_BYTES = 100 * 1024;

  /** Comma-separated origins allowed by CORS; empty means no cross-origin access. */
  @Transform(toList)
  @IsString({ each: true })
  CORS_ORIGINS: string[] = [];

  /**
   * The reverse proxies in front of the API: comma-separated addresses or CIDR ranges (also
   * `loopback`, `linklocal`, `uniquelocal`), e.g. `10.0.0.0/8`. The client address is then the
   * right-most X-Forwarded-For entry that is not one of them. `false` (default): X-Forwarded-For
   * is ignored. `true` trusts every hop, so a client picks its own address with the header:
   * refused in production, warned about elsewhere. See checkTrustProxy below.
   */
  @Transform(toTrustProxy)
  TRUST_PROXY: boolean | string[] = false;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /**
   * Tag everything the app logs while serving a request with the request's `reqId` (request lines
   * always carry it, and the log of a 5xx names it). Off by default: on Node 20 the async context it needs
   * tracks every promise, about a fifth of an authenticated request's CPU time (measured).
   */
  @Transform(toBoolean)
  @IsBoolean()
  LOG_REQUEST_CONTEXT = false;

  /** HS256 uses JWT_SECRET; RS256/ES256 use JWT_PRIVATE_KEY and JWT_PUBLIC_KEY (PEM). */
  @IsIn(['HS256', 'RS256', 'ES256'])
  JWT_ALGORITHM: JwtAlgorithm = 'HS256';

  /** At least 32 random characters. Required in production with HS256. */
  @IsOptional()
  @IsString()
  JWT_SECRET?: string;

  /** PEM; `\n` escapes are accepted so the key fits on one line. */
  @IsOptional()
  @Transform(toPem)
  @IsString()
  JWT_PRIVATE_KEY?: string;

  @IsOptional()
  @Transform(toPem)
  @IsString()
  JWT_PUBLIC_KEY?: string;

  @IsString()
  @MinLength(1)
  JWT_ISSUER = 'guardhouse';

  @IsString()
  @MinLength(1)
  JWT_AUDIENCE = 'guardhouse-api';

  /** Access-token lifetime in seconds. */
  @Type(() => Number)
  @IsInt()
  @Min(30)
  @Max(24 * 3600)
  JWT_ACCESS_TTL_SECONDS = 900;

  /** Refresh-token lifetime (sliding session) in seconds. */
  @Type(() => Number)
  @IsInt()
  @Min(60)
  REFRESH_TTL_SECONDS = 7 * 24 * 3600;

  /**
   * Absolute session lifetime in seconds from login; refreshes never extend a session past it.
   * At least MIN_SESSION_MAX_AGE_SECONDS, except under NODE_ENV=test (tests wait it out in seconds).
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  SESSION_MAX_AGE_SECONDS = 30 * 24 * 3600;

  /** How long a "user and session still valid" answer is cached; 0 = ask the database every request. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(60_000)
  SESSION_CACHE_TTL_MS = 5000;

  /**
   * Failed logins on one account from one client (IP; IPv6 /64) within the window before 429 for
   * that client only (counted in MongoDB).
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  LOGIN_MAX_FAILURES_PER_ACCOUNT = 5;

  // ---- account slowdown (issue 10, lock-out by strangers) ----
  /**
   * Failed logins on one account (all clients) within the window after which attempts on it are
   * spaced 1 s, 2 s, 4 s … up to 60 s (429 + Retry-After when too early), instead of locking it.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  LOGIN_ACCOUNT_SLOWDOWN_AFTER = 20;
  // ---- end account slowdown ----

  /** Failed logins per client IP (IPv6 /64) within the window before 429 (counted in MongoDB). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  LOGIN_MAX_FAILURES_PER_IP = 20;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  LOGIN_FAILURE_WINDOW_SECONDS = 900;

  /** Requests per client IP to the /api/auth routes within AUTH_RATE_LIMIT_TTL_SECONDS. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  AUTH_RATE_LIMIT = 30;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  AUTH_RATE_LIMIT_TTL_SECONDS = 60;

  /** bcrypt cost; never below 10. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(15)
  BCRYPT_ROUNDS = 12;

  /**
   * Sensitive actions (password, email, second factor, account deletion, an admin's role changes
   * and factor resets) need an authentication of the session at most this old (RFC 9470);
   * `POST /api/auth/reauthenticate` renews it.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(24 * 3600)
  REAUTH_MAX_AGE_SECONDS = 300;

  // ---- password hashing queue (issue 21) ----
  /**
   * A login, signup, password change, reset or re-authentication whose password check would wait
   * longer than this in the hashing queue is answered at once with 503 and Retry-After.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(60_000)
  LOGIN_QUEUE_TIMEOUT_MS = 5000;

  /** Password hashes computed at once. Empty: one per core, at most libuv's thread pool size − 1. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(64)
  LOGIN_QUEUE_CONCURRENCY?: number;
  // ---- end password hashing queue ----

  /**
   * `length` (default): 8 to 128 characters, any script, no common passwords, no composition rules
   * (ASVS 5.0 6.2.5, NIST 800-63B). `classes` also requires a lower-case and an upper-case letter,
   * a digit and a symbol (the book-library seed's rule).
   */
  @IsIn(PASSWORD_POLICIES)
  PASSWORD_POLICY: PasswordPolicy = 'length';

  /** The first admin, created (or promoted) at start-up when both are set. */
  @IsOptional()
  @IsEmail()
  ADMIN_EMAIL?: string;

  /** Held to the signup password policy (PASSWORD_POLICY: length, common list, classes). */
  @IsOptional()
  @IsString()
  ADMIN_PASSWORD?: string;

  @IsOptional()
  @IsString()
  ADMIN_NAME?: string;

  /** Book covers decoded at once by this instance (each may hold up to 64 MB while it runs). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(16)
  COVER_JOBS_CONCURRENCY = 2;

  /** Covers that may wait for a free slot; any further upload is a 503 with Retry-After. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(100)
  COVER_JOBS_QUEUE = 4;

  /** Cover uploads (multipart book requests) per user per minute, counted per instance (429 beyond). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  COVER_UPLOADS_PER_MINUTE = 10;

  // ---- graceful shutdown behind a load balancer (issue 12) ----
  /**
   * On SIGTERM, keep serving this long while /api/health answers 503, so the load balancer marks
   * the instance down before it stops accepting connections (at least its check interval times
   * its fall count). 0 (default): stop accepting at once, for a single instance.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(30_000)
  SHUTDOWN_DRAIN_MS = 0;
  // ---- end graceful shutdown ----

  // ---- production defaults (issue 10) ----
  /**
   * Serve Swagger UI at /api/docs and the OpenAPI JSON at /api/docs-json. Default: off in
   * production, on elsewhere; an explicit value wins (see applyEnvironmentDefaults).
   */
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  SWAGGER_ENABLED!: boolean;
  // ---- end production defaults ----

  // ---- second factor and session list (issue 15) ----
  /** TOTP second factor with recovery codes (routes under /api/auth/mfa). */
  @Transform(toBoolean)
  @IsBoolean()
  MFA_ENABLED = true;

  /**
   * AES-256-GCM key for TOTP secrets at rest: 32 bytes as 64 hex digits or base64
   * (`openssl rand -base64 32`). Required in production when MFA_ENABLED; elsewhere a random one
   * is generated (enrolled factors then stop working when the process restarts).
   */
  @IsOptional()
  @IsString()
  MFA_ENCRYPTION_KEY?: string;

  /** The issuer name authenticator apps show next to the account. */
  @IsString()
  @MinLength(1)
  MFA_ISSUER = 'Guardhouse';

  /**
   * Wrong second-factor codes per account in 24 hours (all clients together) after which only a
   * recovery code or a mailed password reset gets in; a login challenge dies after 5 of them.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  MFA_MAX_FAILURES_PER_DAY = 10;

  /** GET/DELETE /api/auth/sessions and the admin's /api/users/:id/sessions. */
  @Transform(toBoolean)
  @IsBoolean()
  SESSIONS_API_ENABLED = true;

  /** Set when no MFA_ENCRYPTION_KEY was given outside production and a random one was generated. */
  MFA_ENCRYPTION_KEY_GENERATED?: boolean;
  // ---- end second factor ----
  // ---- account mail (issue 14) ----
  /**
   * SMTP server for account mail (reset, verification, email change, notices), e.g.
   * `smtps://user:pass@smtp.example.com:465`. Required in production; without it elsewhere each
   * message is written to MAIL_OUTBOX_DIR as an .eml file and its link is logged.
   */
  @IsOptional()
  @Matches(/^smtps?:\/\/[^\s]+$/, { message: 'SMTP_URL must be an smtp:// or smtps:// URL' })
  SMTP_URL?: string;

  /** The From header of account mail. */
  @IsString()
  @MinLength(3)
  MAIL_FROM = 'Guardhouse <no-reply@localhost>';

  /**
   * Base URL of the links in mail (the front end that shows the reset/verify pages); never taken
   * from a request's Host header. Required in production; default http://localhost:PORT.
   */
  @IsOptional()
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'PUBLIC_URL must be an http:// or https:// URL' })
  PUBLIC_URL?: string;

  /** Where mail goes without SMTP_URL (development). */
  @IsString()
  @MinLength(1)
  MAIL_OUTBOX_DIR = '.data/outbox';

  /**
   * When true, accounts with an unverified address get 403 except on /api/users/me, /api/auth/*
   * and public routes, and signup answers 202 alike for new and taken addresses.
   */
  @Transform(toBoolean)
  @IsBoolean()
  REQUIRE_VERIFIED_EMAIL = false;

  /**
   * Mail sent on request (reset, verification, signup notice, email change) per address and kind
   * within MAIL_WINDOW_SECONDS (429 beyond; signup sends nothing and answers as always).
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  MAIL_MAX_PER_ADDRESS = 5;

  /** Mail-sending and mailed-token requests per client IP (IPv6 /64) within MAIL_WINDOW_SECONDS. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  MAIL_MAX_PER_IP = 20;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  MAIL_WINDOW_SECONDS = 900;
  // ---- end account mail ----

  // ---- audit trail (issue 23) ----
  /** Days security events are kept in `audit_events`; a sweep (one instance an hour) deletes older ones. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(36_500)
  AUDIT_RETENTION_DAYS = 365;

  /** Recorded events are written in one insert at least this often (ms). */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(60_000)
  AUDIT_FLUSH_INTERVAL_MS = 1000;

  /**
   * Events one instance holds in memory while the database cannot take them; once full, new events
   * are dropped and counted (a log line, `/api/health`'s `audit.dropped`).
   */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(1_000_000)
  AUDIT_BUFFER_SIZE = 10_000;

  /** Names this process in every audit event. Default `<hostname>:<pid>`. */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._:-]{1,100}$/, {
    message: 'INSTANCE_ID must be 1 to 100 letters, digits or . _ : -',
  })
  INSTANCE_ID?: string;
  // ---- end audit trail ----

  // ---- account page (issue 24) ----
  /**
   * Serve the account page at /account (sign in with a password or a passkey, passkeys, TOTP,
   * sessions). Default: on, off in production (see applyEnvironmentDefaults).
   */
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  ACCOUNT_PAGE_ENABLED!: boolean;
  // ---- end account page ----

  // ---- passkeys (issue 24) ----
  /**
   * The WebAuthn relying party id passkeys are bound to: the site's domain (`example.com`).
   * Default: PUBLIC_URL's host name.
   */
  @IsOptional()
  @Matches(/^[a-z0-9.-]{1,253}$/i, { message: 'WEBAUTHN_RP_ID must be a domain name' })
  WEBAUTHN_RP_ID?: string;

  /** The name authenticators show when a passkey is made. */
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  WEBAUTHN_RP_NAME = 'Guardhouse';

  /**
   * Comma-separated origins the ceremonies may run on (`https://app.example.com`), each the RP id
   * or a subdomain of it. Default: PUBLIC_URL's origin.
   */
  @IsOptional()
  @Transform(toList)
  @IsArray()
  @Matches(/^https?:\/\/[^\s/]+$/, {
    each: true,
    message: 'WEBAUTHN_ORIGINS must be http(s):// origins without a path',
  })
  WEBAUTHN_ORIGINS?: string[];
  // ---- end passkeys ----

  /** Set when no JWT_SECRET was given outside production and a random one was generated. */
  JWT_SECRET_GENERATED?: boolean;
}

/** Validates raw settings; throws one error that names every invalid setting. */
export function validateEnv(raw: Record<string, unknown>): Env {
  const defined = Object.fromEntries(
    Object.entries(raw).filter(([, value]) => value !== undefined && value !== ''),
  );
  const env = plainToInstance(Env, defined, { exposeDefaultValues: true });
  const errors = validateSync(env, { skipMissingProperties: false, whitelist: false });
  if (errors.length > 0) {
    const lines = errors.map(
      (error) => `  ${error.property}: ${Object.values(error.constraints ?? {}).join('; ')}`,
    );
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  applyEnvironmentDefaults(env);
  checkJwtKeys(env);
  checkSessionMaxAge(env);
  checkTrustProxy(env);
  checkMfaKey(env);
  checkMail(env);
  checkAdminPassword(env);
  checkPasskeys(env);
  return env;
}

/** Below a minute a session ends before it is of use: almost surely minutes typed as seconds. */
export const MIN_SESSION_MAX_AGE_SECONDS = 60;

function checkSessionMaxAge(env: Env): void {
  if (env.NODE_ENV !== NodeEnv.Test && env.SESSION_MAX_AGE_SECONDS < MIN_SESSION_MAX_AGE_SECONDS) {
    throw new Error(
      `Invalid configuration:\n  SESSION_MAX_AGE_SECONDS: must be at least ${MIN_SESSION_MAX_AGE_SECONDS}`,
    );
  }
}

const PLACEHOLDER_SECRET = /change|secret|example|default|placeholder|password|test/i;

/** True when a secret is too short, a known placeholder, or has too little variety to be random. */
export function isWeakSecret(secret: string): boolean {
  return (
    secret.length < MIN_SECRET_LENGTH ||
    PLACEHOLDER_SECRET.test(secret) ||
    new Set(secret).size < 12
  );
}

function checkJwtKeys(env: Env): void {
  if (env.JWT_ALGORITHM !== 'HS256') {
    if (!env.JWT_PRIVATE_KEY || !env.JWT_PUBLIC_KEY) {
      throw new Error(
        `Invalid configuration:\n  JWT_PRIVATE_KEY/JWT_PUBLIC_KEY: both are required for ${env.JWT_ALGORITHM}`,
      );
    }
    return;
  }
  // Placeholders are refused wherever a secret is set by hand except in tests: a development
  // instance reachable by others, or a "production" one that forgot NODE_ENV, is then safe too.
  if (!env.JWT_SECRET) {
    if (env.NODE_ENV === NodeEnv.Production) throw weakSecretError();
    // Development convenience: tokens stop working when the process restarts.
    env.JWT_SECRET = randomBytes(48).toString('base64url');
    env.JWT_SECRET_GENERATED = true;
  } else if (env.NODE_ENV === NodeEnv.Test) {
    if (env.JWT_SECRET.length < MIN_SECRET_LENGTH) {
      throw new Error(
        `Invalid configuration:\n  JWT_SECRET: must be at least ${MIN_SECRET_LENGTH} characters`,
      );
    }
  } else if (isWeakSecret(env.JWT_SECRET)) {
    throw weakSecretError();
  }
}

const weakSecretError = (): Error =>
  new Error(
    'Invalid configuration:\n  JWT_SECRET: needs at least 32 random characters ' +
      '(e.g. `openssl rand -base64 48`), not a placeholder (only NODE_ENV=test accepts one)',
  );

/**
 * The configured admin logs in with ADMIN_PASSWORD like anyone else: it must pass the policy a
 * signup would (`password` or `admin1234` would otherwise start a production server). The
 * messages name the setting, never the value.
 */
function checkAdminPassword(env: Env): void {
  if (env.ADMIN_PASSWORD === undefined) return;
  const problems = passwordProblems(env.PASSWORD_POLICY, env.ADMIN_PASSWORD, 'ADMIN_PASSWORD');
  if (problems.length > 0) {
    throw new Error(
      `Invalid configuration:\n${problems.map((problem) => `  ADMIN_PASSWORD: ${problem}`).join('\n')}`,
    );
  }
}

// ---- second factor (issue 15) ----
function checkMfaKey(env: Env): void {
  if (!env.MFA_ENABLED) return;
  if (env.MFA_ENCRYPTION_KEY === undefined) {
    if (env.NODE_ENV === NodeEnv.Production) {
      throw new Error(
        'Invalid configuration:\n  MFA_ENCRYPTION_KEY: required in production while MFA_ENABLED ' +
          '(32 bytes: `openssl rand -base64 32`), or set MFA_ENABLED=false',
      );
    }
    env.MFA_ENCRYPTION_KEY = randomBytes(32).toString('base64');
    env.MFA_ENCRYPTION_KEY_GENERATED = true;
    return;
  }
  if (!parseEncryptionKey(env.MFA_ENCRYPTION_KEY)) {
    throw new Error(
      'Invalid configuration:\n  MFA_ENCRYPTION_KEY: must be 32 bytes, as 64 hex digits or base64',
    );
  }
}
// ---- end second factor ----

// ---- production defaults (issue 10) ----
/** Defaults that depend on NODE_ENV: what is convenient in development is off in production. */
function applyEnvironmentDefaults(env: Env): void {
  env.SWAGGER_ENABLED ??= env.NODE_ENV !== NodeEnv.Production;
  env.MONGODB_AUTO_INDEX ??= env.NODE_ENV !== NodeEnv.Production;
  env.ACCOUNT_PAGE_ENABLED ??= env.NODE_ENV !== NodeEnv.Production;
}
// ---- end production defaults ----

// ---- account mail (issue 14) ----
/** Production mails real people: no outbox fallback, no links to localhost. */
function checkMail(env: Env): void {
  if (env.NODE_ENV === NodeEnv.Production) {
    const missing = ['SMTP_URL', 'PUBLIC_URL'].filter(
      (key) => !env[key as 'SMTP_URL' | 'PUBLIC_URL'],
    );
    if (missing.length > 0) {
      throw new Error(
        `Invalid configuration:\n${missing.map((key) => `  ${key}: required in production (account mail)`).join('\n')}`,
      );
    }
  }
  env.PUBLIC_URL ??= `http://localhost:${env.PORT}`;
}
// ---- end account mail ----

// ---- passkeys (issue 24) ----
/**
 * Defaults from PUBLIC_URL (set by checkMail), and every origin must be the RP id or a subdomain
 * of it (browsers refuse the ceremony otherwise: better to say so at start-up).
 */
function checkPasskeys(env: Env): void {
  const publicUrl = new URL(env.PUBLIC_URL ?? `http://localhost:${env.PORT}`);
  env.WEBAUTHN_RP_ID = (env.WEBAUTHN_RP_ID ?? publicUrl.hostname).toLowerCase();
  env.WEBAUTHN_ORIGINS ??= [publicUrl.origin];
  const rpId = env.WEBAUTHN_RP_ID;
  const outside = env.WEBAUTHN_ORIGINS.filter((origin) => {
    const host = new URL(origin).hostname;
    return host !== rpId && !host.endsWith(`.${rpId}`);
  });
  if (outside.length > 0) {
    throw new Error(
      `Invalid configuration:\n  WEBAUTHN_ORIGINS: ${outside.join(', ')} not within WEBAUTHN_RP_ID ${rpId}`,
    );
  }
}
// ---- end passkeys ----

// ---- TRUST_PROXY (issue 10, proxies) ----
/**
 * The list goes to Fastify, which compiles it with @fastify/proxy-addr: compiling it here with
 * the same function refuses at start-up what Fastify would refuse (or misread) later. Hop counts
 * are refused: Fastify 5 trusts nothing for a number (it cannot check the immediate peer).
 */
function checkTrustProxy(env: Env): void {
  const fail = (why: string): never => {
    throw new Error(`Invalid configuration:\n  TRUST_PROXY: ${why}`);
  };
  const value: unknown = env.TRUST_PROXY;
  if (value === true) {
    if (env.NODE_ENV === NodeEnv.Production) {
      fail(
        'true trusts every X-Forwarded-For hop, so clients choose their own address; ' +
          'list the proxies instead (e.g. TRUST_PROXY=10.0.0.0/8)',
      );
    }
    return;
  }
  if (value === false) return;
  if (!Array.isArray(value) || value.length === 0) fail("false, or the proxies' addresses");
  for (const entry of value as unknown[]) {
    if (typeof entry !== 'string' || entry === '') return fail('an empty entry in the list');
    if (/^\d+$/.test(entry)) {
      fail(`hop counts (${entry}) are not supported; list the proxies' addresses`);
    }
    try {
      proxyAddr.compile(entry);
    } catch {
      fail(`"${entry}" is not an IP address, CIDR range or known range name`);
    }
  }
}
// ---- end TRUST_PROXY ----

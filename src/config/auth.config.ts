import type { AuditOptions, AuthModuleOptions } from '../auth/index.js';
import type { Env } from './env.js';

/** Maps validated settings to the auth kit's options; `auditLog` writes each audit log line. */
export function authOptionsFromEnv(env: Env, auditLog?: AuditOptions['log']): AuthModuleOptions {
  return {
    jwt: {
      algorithm: env.JWT_ALGORITHM,
      secret: env.JWT_SECRET,
      privateKey: env.JWT_PRIVATE_KEY,
      publicKey: env.JWT_PUBLIC_KEY,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      accessTtlSeconds: env.JWT_ACCESS_TTL_SECONDS,
    },
    refreshTtlSeconds: env.REFRESH_TTL_SECONDS,
    sessionMaxAgeSeconds: env.SESSION_MAX_AGE_SECONDS,
    sessionCacheTtlMs: env.SESSION_CACHE_TTL_MS,
    recentAuthMaxAgeSeconds: env.REAUTH_MAX_AGE_SECONDS,
    loginThrottle: {
      maxFailuresPerAccount: env.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      maxFailuresPerIp: env.LOGIN_MAX_FAILURES_PER_IP,
      accountSlowdownAfter: env.LOGIN_ACCOUNT_SLOWDOWN_AFTER,
      windowSeconds: env.LOGIN_FAILURE_WINDOW_SECONDS,
    },
    bcryptRounds: env.BCRYPT_ROUNDS,
    hashing: {
      queueTimeoutMs: env.LOGIN_QUEUE_TIMEOUT_MS,
      concurrency: env.LOGIN_QUEUE_CONCURRENCY,
    },
    passwordPolicy: env.PASSWORD_POLICY,
    sessionsApi: env.SESSIONS_API_ENABLED,
    mfa: {
      enabled: env.MFA_ENABLED,
      encryptionKey: env.MFA_ENCRYPTION_KEY,
      issuer: env.MFA_ISSUER,
      maxFailuresPerDay: env.MFA_MAX_FAILURES_PER_DAY,
    },
    admin: { email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD, name: env.ADMIN_NAME },
    mail: {
      smtpUrl: env.SMTP_URL,
      outboxDir: env.MAIL_OUTBOX_DIR,
      from: env.MAIL_FROM,
      publicUrl: env.PUBLIC_URL ?? `http://localhost:${env.PORT}`,
      productName: 'Guardhouse',
      maxPerAccount: env.MAIL_MAX_PER_ADDRESS,
      maxPerIp: env.MAIL_MAX_PER_IP,
      windowSeconds: env.MAIL_WINDOW_SECONDS,
    },
    requireVerifiedEmail: env.REQUIRE_VERIFIED_EMAIL,
    audit: {
      retentionDays: env.AUDIT_RETENTION_DAYS,
      flushIntervalMs: env.AUDIT_FLUSH_INTERVAL_MS,
      bufferSize: env.AUDIT_BUFFER_SIZE,
      instanceId: env.INSTANCE_ID,
      log: auditLog,
    },
    passkeys: {
      rpId: env.WEBAUTHN_RP_ID ?? 'localhost',
      rpName: env.WEBAUTHN_RP_NAME,
      origins: env.WEBAUTHN_ORIGINS ?? [],
    },
  };
}

import type { AuthUser } from '../core/auth-user.js';

/**
 * Security events the account owner should hear about, out of band (by mail). The kit calls
 * these after the change is made; a failure here is logged and never undoes it. The default does
 * nothing unless the kit has a mailer (`mail` option: then each notice is mailed); a host passes its own as
 * `AuthModuleOptions.securityNotices`.
 */
export interface SecurityNotices {
  /** A recovery code finished a login; `remaining` codes are left. */
  recoveryCodeUsed(user: AuthUser, remaining: number): Promise<void> | void;
  /** The second factor was turned off, by the owner or by an admin (`byAdmin`). */
  mfaDisabled(user: AuthUser, byAdmin: boolean): Promise<void> | void;
  /** The second factor was turned on. */
  mfaEnabled(user: AuthUser): Promise<void> | void;
  /**
   * `failures` wrong codes followed a correct password (in 24 hours): someone may hold the
   * password. At most once an hour per account. Optional, so hosts' own notices keep compiling.
   */
  secondFactorFailures?(user: AuthUser, failures: number): Promise<void> | void;
  /**
   * A verified passkey assertion carried a signature counter not above the stored one (WebAuthn
   * L3 §6.1.1: the authenticator may have been cloned); the login was refused. Optional.
   */
  passkeyCounterRegressed?(user: AuthUser, passkeyName: string): Promise<void> | void;
}

export const NO_SECURITY_NOTICES: SecurityNotices = {
  recoveryCodeUsed: () => undefined,
  mfaDisabled: () => undefined,
  mfaEnabled: () => undefined,
  secondFactorFailures: () => undefined,
};

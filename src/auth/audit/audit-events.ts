import type { AuthMethod } from '../core/auth-methods.js';
import type { Role } from '../core/roles.js';
import type { ApiKeyScope } from '../core/scopes.js';

/**
 * The catalogue of security events: every type the kit records, with the shape of its `detail`.
 * docs/audit.md describes each one. Details are small and never hold a password, token, code or
 * hash: only categories, counts, roles and addresses.
 */

type NoDetail = Record<string, never>;

/** Why a login failed (the same 401 for the first two; the password is never recorded). */
export type LoginFailureReason = 'unknown_account' | 'wrong_password' | 'disabled' | 'throttled';

/** How the second step of a login was passed. */
export type SecondFactorMethod = 'totp' | 'recovery_code' | 'passkey';

/** Why the second step of a login failed. */
export type SecondFactorFailureReason = 'wrong_code' | 'reused_code' | 'invalid_token';

/** The WebAuthn ceremony a passkey assertion answered. */
export type PasskeyCeremony = 'login' | 'second_factor' | 'reauthentication';

/**
 * Why a passkey assertion was refused: a credential no account has, a challenge missing, used,
 * expired or handed to another ceremony or caller, a signature, origin or RP ID that does not
 * verify, no user verification on a usernameless login, another account's passkey, a signature
 * counter that went backwards (a cloned key?), a disabled account, an unknown mfaToken.
 */
export type PasskeyFailureReason =
  | 'unknown_credential'
  | 'invalid_challenge'
  | 'not_verified'
  | 'user_verification_missing'
  | 'wrong_account'
  | 'counter_regressed'
  | 'disabled'
  | 'invalid_token';

/** Whether the account's owner or an admin made the change. */
export type ChangedBy = 'user' | 'admin';

/** What the start-up admin check did (see UsersService.ensureAdmin); `present` is not recorded. */
export type AdminEnsuredOutcome =
  'created' | 'promoted' | 'password-mismatch' | 'disabled' | 'deleted';

/** How an account was created: with a password (`pwd`, as in RFC 8176) or a provider. */
export type SignupMethod = 'pwd' | 'oidc';

/**
 * Why an OpenID Connect sign-in or link failed: also the `#error=` a front end receives
 * (docs/oidc.md lists each).
 */
export type OidcFailureReason =
  | 'invalid_state'
  | 'expired'
  | 'access_denied'
  | 'provider_error'
  | 'provider_unreachable'
  | 'token_exchange_failed'
  | 'invalid_id_token'
  | 'email_not_verified'
  | 'local_account_unverified'
  | 'signup_disabled'
  | 'account_disabled'
  | 'identity_in_use'
  | 'already_linked'
  | 'throttled'
  | 'server_error'
  | 'verifier_mismatch'
  | 'wrong_account';

/** How an identity came to be linked: by its owner, by a verified email, or with a new account. */
export type IdentityLinkedBy = 'user' | 'email' | 'signup';

/** The kit's own events. Closed: hosts add theirs to AuditEventDetails instead. */
export interface KitAuditEvents {
  /** `method`: a password signup, or a first sign-in with an OpenID Connect provider. */
  'user.signed_up': { method: SignupMethod };
  /** `secondFactor`: how the second step was passed, null when there was none. */
  'login.succeeded': { secondFactor: SecondFactorMethod | null };
  /** `email` as typed (an address: the DTO refuses anything else), also for unknown accounts. */
  'login.failed': { reason: LoginFailureReason; email: string };
  /** The password was right; the answer asked for a second factor. */
  'mfa.required': NoDetail;
  'mfa.succeeded': { method: SecondFactorMethod };
  'mfa.failed': { reason: SecondFactorFailureReason; method: SecondFactorMethod };
  'mfa.recovery_code_used': { remaining: number };
  'mfa.enrolled': NoDetail;
  'mfa.removed': { by: ChangedBy };
  /** A refresh token was presented again after its rotation: the whole session was ended. */
  'token.reuse_detected': NoDetail;
  'session.logged_out': NoDetail;
  'session.logged_out_all': NoDetail;
  /** One session ended from the session list, by its owner or an admin. */
  'session.ended': { by: ChangedBy };
  /** The session proved its user again (step-up, RFC 9470); `methods` as in the token's `amr`. */
  'session.reauthenticated': { methods: AuthMethod[] };
  'password.changed': NoDetail;
  'password.reset_requested': NoDetail;
  'password.reset': NoDetail;
  'email.verification_requested': NoDetail;
  'email.verified': NoDetail;
  'email.change_requested': { newEmail: string };
  'email.changed': { previousEmail: string; newEmail: string };
  'user.role_changed': { from: Role; to: Role };
  'user.disabled': { by: ChangedBy };
  'user.enabled': NoDetail;
  'user.deleted': NoDetail;
  'admin.ensured': { outcome: AdminEnsuredOutcome };
  /** `keyId`: the key's public id (never its secret). */
  'api_key.created': { keyId: string; scopes: ApiKeyScope[] };
  /** A key was used from an address it had not been used from before (not on its first use). */
  'api_key.used_from_new_ip': { keyId: string };
  'api_key.revoked': { keyId: string; by: ChangedBy };
  /** A session opened by an OpenID Connect sign-in (`POST /auth/oidc/exchange`). */
  'oidc.login_succeeded': { provider: string };
  /** An OpenID Connect callback or exchange refused (the reason is the front end's `#error`). */
  'oidc.login_failed': { provider: string; reason: OidcFailureReason };
  'identity.linked': { provider: string; by: IdentityLinkedBy };
  'identity.unlinked': { provider: string };
  /** `credential`: the passkey's id in the API (`PasskeyDto.id`), not its WebAuthn credential id. */
  'passkey.registered': { credential: string };
  'passkey.renamed': { credential: string };
  'passkey.removed': { credential: string };
  /** An assertion was accepted (the login, second step or re-authentication then goes on). */
  'passkey.login_succeeded': {
    credential: string;
    ceremony: PasskeyCeremony;
    userVerified: boolean;
  };
  'passkey.login_failed': { reason: PasskeyFailureReason; ceremony: PasskeyCeremony };
  /** A verified assertion's signature counter was not above the stored one: refused, owner mailed. */
  'passkey.counter_regressed': {
    credential: string;
    storedCounter: number;
    presentedCounter: number;
  };
}

/**
 * Every event type the recorder accepts, with its detail shape. A host adds its own by declaration
 * merging, and lists them in the `audit.eventTypes` option so that the routes accept them as
 * `?type=` filters:
 *
 * ```ts
 * declare module './auth/index.js' {
 *   interface AuditEventDetails {
 *     'note.shared': { noteId: string };
 *   }
 * }
 * ```
 */
// An interface (not a type alias) so that hosts can merge into it.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface AuditEventDetails extends KitAuditEvents {}

export type AuditEventType = keyof AuditEventDetails;

/** Event types a host added to AuditEventDetails. */
export type HostAuditEventType = Exclude<AuditEventType, keyof KitAuditEvents>;

/** One event as recorded: its type and the detail that type carries (a union over the catalogue). */
export type AuditEventOf = {
  [T in AuditEventType]: { type: T; detail: AuditEventDetails[T] };
}[AuditEventType];

/** One event as its log line carries it (`event: 'audit'`), for log shippers. */
export interface AuditLogLine {
  event: 'audit';
  /** The stored event's id. */
  id: string;
  at: Date;
  type: string;
  actor: string;
  subject: string | null;
  session?: string;
  ip?: string;
  userAgent?: string;
  instance: string;
  detail: object;
}

/** Every kit type once: the compiler fails here when the catalogue and this list differ. */
const KIT_TYPES: Record<keyof KitAuditEvents, true> = {
  'user.signed_up': true,
  'login.succeeded': true,
  'login.failed': true,
  'mfa.required': true,
  'mfa.succeeded': true,
  'mfa.failed': true,
  'mfa.recovery_code_used': true,
  'mfa.enrolled': true,
  'mfa.removed': true,
  'token.reuse_detected': true,
  'session.logged_out': true,
  'session.logged_out_all': true,
  'session.ended': true,
  'session.reauthenticated': true,
  'password.changed': true,
  'password.reset_requested': true,
  'password.reset': true,
  'email.verification_requested': true,
  'email.verified': true,
  'email.change_requested': true,
  'email.changed': true,
  'user.role_changed': true,
  'user.disabled': true,
  'user.enabled': true,
  'user.deleted': true,
  'admin.ensured': true,
  'api_key.created': true,
  'api_key.used_from_new_ip': true,
  'api_key.revoked': true,
  'oidc.login_succeeded': true,
  'oidc.login_failed': true,
  'identity.linked': true,
  'identity.unlinked': true,
  'passkey.registered': true,
  'passkey.renamed': true,
  'passkey.removed': true,
  'passkey.login_succeeded': true,
  'passkey.login_failed': true,
  'passkey.counter_regressed': true,
};

export const KIT_AUDIT_EVENT_TYPES = Object.keys(KIT_TYPES) as (keyof KitAuditEvents)[];

/** What an event type may look like: lower-case dotted words (`area.what_happened`). */
export const AUDIT_EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

/** The actor of what the kit does by itself (start-up, sweeps). */
export const SYSTEM_ACTOR = 'system';
/** The actor of a request that proved no account: a failed login, a reset request. */
export const ANONYMOUS_ACTOR = 'anonymous';

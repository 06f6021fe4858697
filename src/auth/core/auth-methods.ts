/**
 * How the session last authenticated its user (RFC 8176 "amr" values): `pwd` password, `otp`
 * one-time code (TOTP or a recovery code), `hwk`/`swk` proof of possession of a hardware- or
 * software-bound key (a passkey), `user` a user-presence test, `pin`/`fpt`/`face` a local user
 * verification, `mfa` more than one factor. `fed`: signed in through an OpenID Connect provider
 * (docs/oidc.md). RFC 8176 has no value for a federated sign-in: `fed` is ours, outside its
 * registry; the provider's own `amr` is not copied (it is the provider's claim, not ours), except
 * that a trusted provider `mfa` adds `mfa` (OIDC_TRUST_PROVIDER_MFA).
 */
export const AUTH_METHODS = [
  'pwd',
  'otp',
  'hwk',
  'swk',
  'user',
  'pin',
  'fpt',
  'face',
  'mfa',
  'fed',
] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

export const isAuthMethod = (value: unknown): value is AuthMethod =>
  (AUTH_METHODS as readonly unknown[]).includes(value);

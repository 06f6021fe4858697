import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  OnModuleInit,
  UnauthorizedException,
} from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
  VerifiedAuthenticationResponse,
  VerifiedRegistrationResponse,
} from '@simplewebauthn/server';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type { HydratedDocument } from 'mongoose';
import { Model } from 'mongoose';

import { UserLifecycle } from '../accounts/user-lifecycle.service.js';
import type { AuthUserRecord } from '../accounts/users.service.js';
import { UsersService } from '../accounts/users.service.js';
import type { PasskeyCeremony, PasskeyFailureReason } from '../audit/audit-events.js';
import type { AuditParties } from '../audit/audit-recorder.service.js';
import { AuditRecorder, byAnonymous, byUser } from '../audit/audit-recorder.service.js';
import type { AuthModuleOptions } from '../auth.options.js';
import { AUTH_OPTIONS } from '../auth.options.js';
import { AuthService } from '../auth.service.js';
import type { AuthMethod } from '../core/auth-methods.js';
import type { AuthUser } from '../core/auth-user.js';
import type { ClientInfo } from '../core/client-info.js';
import type { TokenResponseDto } from '../dto/token-response.dto.js';
import { MailService } from '../mail/mail.service.js';
import { mails } from '../mail/mail-templates.js';
import { MfaService } from '../mfa/mfa.service.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { isDuplicateKeyError } from '../shared/duplicate-key.js';
import { LoginThrottleService } from '../throttling/login-throttle.service.js';
import type { PasskeyDto } from './dto/passkey.dto.js';
import { PasskeyCredential } from './schemas/passkey-credential.schema.js';
import type { Ceremony, ChallengeOwner } from './webauthn-challenges.service.js';
import { CHALLENGE_TTL_MS, WebAuthnChallenges } from './webauthn-challenges.service.js';

type PasskeyDocument = HydratedDocument<PasskeyCredential>;

/**
 * The throttle key of usernameless attempts whose credential no account has: no email is known,
 * so they count against the client's per-IP limit (and this one shared pseudo-account); a known
 * credential's attempts count against its owner's account, like password guesses.
 */
export const UNKNOWN_PASSKEY_ACCOUNT = 'passkey:unknown-credential';

const OBJECT_ID = /^[0-9a-f]{24}$/i;
const NOT_ACCEPTED = 'Passkey not accepted';
const INVALID_MFA_TOKEN = 'Invalid or expired MFA token';

/** A refused assertion: the reason goes to the audit trail, the message to the client. */
class PasskeyRefusal extends Error {
  constructor(
    readonly reason: PasskeyFailureReason,
    readonly subject: string | null,
  ) {
    super(reason);
  }
}

/** An accepted assertion: its passkey, its owner and what the token's `amr` says about it. */
interface Asserted {
  passkey: PasskeyDocument;
  user: AuthUserRecord;
  userVerified: boolean;
  /** `hwk` for a device-bound key, `swk` for a synced one. */
  key: AuthMethod;
}

/** The challenge the client signed, from `clientDataJSON`; null when it cannot be read. */
function signedChallenge(clientDataJSON: string): string | null {
  try {
    const data: unknown = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8'));
    const challenge = (data as { challenge?: unknown } | null)?.challenge;
    return typeof challenge === 'string' && challenge.length > 0 && challenge.length <= 128
      ? challenge
      : null;
  } catch {
    return null;
  }
}

/** The WebAuthn user handle of an account: its id's 12 bytes. */
const userHandle = (userId: string): Uint8Array<ArrayBuffer> =>
  new Uint8Array(Buffer.from(userId, 'hex'));

export function toPasskeyDto(passkey: PasskeyCredential & { _id: unknown }): PasskeyDto {
  return {
    id: String(passkey._id),
    name: passkey.name,
    createdAt: passkey.createdAt,
    lastUsedAt: passkey.lastUsedAt ?? null,
    backedUp: passkey.backedUp,
    transports: passkey.transports,
  };
}

/**
 * Passkeys (WebAuthn L3 with @simplewebauthn/server): registration, usernameless login, the
 * second step of a password login, and re-authentication. Every assertion is checked against
 * a challenge of this server (single use, 5 minutes, bound to its ceremony and caller), the
 * configured origins and RP ID, and the credential's signature counter; it counts against the
 * login throttles like a password.
 */
/**
 * EdDSA, ES256 and RS256 (COSE -8, -7, -257), on every Node version. @simplewebauthn offers ML-DSA-44
 * too where the runtime has it (Node 24.7+): a passkey made that way could not be verified once the
 * API runs on an older Node, and its signatures (about 3.3 KB) exceed what the DTOs accept.
 */
const SUPPORTED_ALGORITHMS = [-8, -7, -257];

@Injectable()
export class PasskeysService implements OnModuleInit {
  private readonly logger = new Logger(PasskeysService.name);
  readonly enabled: boolean;
  private readonly rpId: string;
  private readonly rpName: string;
  private readonly origins: string[];
  private readonly maxPerUser: number;

  constructor(
    @InjectModel(PasskeyCredential.name) private readonly passkeys: Model<PasskeyCredential>,
    private readonly challenges: WebAuthnChallenges,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly auth: AuthService,
    private readonly mfa: MfaService,
    private readonly throttle: LoginThrottleService,
    private readonly lifecycle: UserLifecycle,
    private readonly audit: AuditRecorder,
    private readonly mail: MailService,
    @Inject(AUTH_OPTIONS) private readonly options: AuthModuleOptions,
  ) {
    const settings = options.passkeys;
    this.enabled = settings !== undefined && settings.enabled !== false;
    this.rpId = settings?.rpId ?? 'localhost';
    this.rpName = settings?.rpName ?? 'Guardhouse';
    this.origins = settings?.origins ?? [];
    this.maxPerUser = settings?.maxPerUser ?? 20;
  }

  async onModuleInit(): Promise<void> {
    await this.passkeys.init();
    this.lifecycle.register({
      userDeleting: (userId) => this.forget(userId),
      signInWays: (userId) => this.passkeys.countDocuments({ owner: userId }),
      hasSecondFactor: async (userId) =>
        this.enabled && (await this.passkeys.exists({ owner: userId })) !== null,
    });
  }

  // ---- registration ----

  async registrationOptions(user: AuthUser): Promise<PublicKeyCredentialCreationOptionsJSON> {
    this.requireEnabled();
    const own = await this.passkeys
      .find({ owner: user.id })
      .select({ credentialId: 1, transports: 1 })
      .lean();
    if (own.length >= this.maxPerUser) throw this.tooMany();
    const options = await generateRegistrationOptions({
      rpName: this.rpName,
      rpID: this.rpId,
      userName: user.email,
      userDisplayName: user.name,
      userID: userHandle(user.id),
      timeout: CHALLENGE_TTL_MS,
      attestationType: 'none',
      excludeCredentials: own.map((c) => ({ id: c.credentialId, transports: c.transports })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
      supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
    });
    await this.challenges.store(options.challenge, 'registration', this.sessionOwner(user));
    return options;
  }

  /**
   * Verifies the attestation for a challenge this session asked for (used up either way), then
   * stores the credential. 400 when it does not verify, 409 when the credential is registered
   * already (to anyone) or the account has its maximum.
   */
  async register(
    user: AuthUser,
    response: RegistrationResponseJSON,
    name: string | undefined,
    client: ClientInfo,
  ): Promise<PasskeyDto> {
    this.requireEnabled();
    const challenge = signedChallenge(response.response.clientDataJSON);
    if (
      challenge === null ||
      !(await this.challenges.consume(challenge, 'registration', this.sessionOwner(user)))
    ) {
      throw new BadRequestException(
        'Unknown, used or expired registration challenge (or not this session’s): ask for new options',
      );
    }
    let verification: VerifiedRegistrationResponse;
    try {
      verification = await verifyRegistrationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: this.origins,
        expectedRPID: this.rpId,
        requireUserVerification: false,
      });
    } catch {
      verification = { verified: false };
    }
    if (!verification.verified) {
      throw new BadRequestException('The passkey could not be verified');
    }
    const info = verification.registrationInfo;
    if (await this.passkeys.exists({ credentialId: info.credential.id })) throw this.taken();
    if ((await this.passkeys.countDocuments({ owner: user.id })) >= this.maxPerUser) {
      throw this.tooMany();
    }
    let passkey: PasskeyDocument;
    try {
      passkey = await this.passkeys.create({
        credentialId: info.credential.id,
        owner: user.id,
        publicKey: Buffer.from(info.credential.publicKey),
        counter: info.credential.counter,
        transports: info.credential.transports ?? response.response.transports ?? [],
        deviceType: info.credentialDeviceType,
        backedUp: info.credentialBackedUp,
        name: name ?? 'Passkey',
        lastUsedAt: null,
      });
    } catch (error) {
      if (isDuplicateKeyError(error)) throw this.taken();
      throw error;
    }
    this.audit.record('passkey.registered', { credential: passkey.id }, byUser(user, client));
    return toPasskeyDto(passkey);
  }

  // ---- the owner's list ----

  async list(user: AuthUser): Promise<PasskeyDto[]> {
    this.requireEnabled();
    const own = await this.passkeys.find({ owner: user.id }).lean();
    return own
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .map((passkey) => toPasskeyDto(passkey));
  }

  async rename(user: AuthUser, id: string, name: string, client: ClientInfo): Promise<PasskeyDto> {
    const passkey = await this.own(user, id);
    passkey.name = name;
    await passkey.save();
    this.audit.record('passkey.renamed', { credential: passkey.id }, byUser(user, client));
    return toPasskeyDto(passkey);
  }

  /**
   * 409 when it is the account's last way to sign in (no password, no other passkey, no linked
   * provider). Removed first, then the ways left counted, restored when none is: two removals at
   * the same moment cannot both leave the other one.
   */
  async remove(user: AuthUser, id: string, client: ClientInfo): Promise<void> {
    const passkey = await this.own(user, id);
    const { deletedCount } = await this.passkeys.deleteOne({ _id: passkey._id, owner: user.id });
    if (deletedCount !== 1) throw new NotFoundException('No such passkey');
    const hasPassword = (await this.users.getPasswordHash(user.id)) !== null;
    if (!hasPassword && (await this.lifecycle.signInWays(user.id)) === 0) {
      await this.passkeys.create(passkey.toObject());
      throw new ConflictException(
        'This is your last way to sign in: set a password (password reset), add another ' +
          'passkey or link a provider first',
      );
    }
    this.audit.record('passkey.removed', { credential: passkey.id }, byUser(user, client));
  }

  // ---- usernameless login ----

  /** No allowCredentials: the authenticator offers the passkeys it holds for this site. */
  async loginOptions(): Promise<PublicKeyCredentialRequestOptionsJSON> {
    this.requireEnabled();
    return this.requestOptions('login', { user: null, binding: null }, undefined, 'required');
  }

  /**
   * A discoverable credential's assertion with user verification: two factors in one (amr
   * `hwk`/`swk` + `mfa`), so no TOTP step follows. The attempt counts against the login
   * throttles of the credential's owner (or, for a credential nobody has, the client's).
   */
  async login(response: AuthenticationResponseJSON, client: ClientInfo): Promise<TokenResponseDto> {
    this.requireEnabled();
    const ceremony = 'login';
    const found = await this.findCredential(response.id);
    const owner = found ? await this.users.findById(found.owner.toString()) : null;
    const attempt = await this.throttle.recordAttempt(
      owner?.email ?? UNKNOWN_PASSKEY_ACCOUNT,
      client.ip,
    );
    let asserted: Asserted;
    try {
      asserted = await this.assert(
        response,
        ceremony,
        { user: null, binding: null },
        client,
        found,
      );
      if (!asserted.userVerified) {
        throw new PasskeyRefusal('user_verification_missing', asserted.user.id);
      }
      if (!asserted.user.active) throw new PasskeyRefusal('disabled', asserted.user.id);
    } catch (error) {
      await this.throttle.failed(attempt);
      throw this.refused(error, ceremony, client, new UnauthorizedException(NOT_ACCEPTED));
    }
    await this.throttle.succeeded(attempt);
    const { user } = asserted;
    await this.used(asserted, ceremony, client);
    const issued = await this.sessions.create(
      user.id,
      { credential: user.credentialVersion, methods: [asserted.key, 'mfa'] },
      client,
    );
    const parties = { actor: user.id, subject: user.id, session: issued.sessionId, client };
    this.audit.record('login.succeeded', { secondFactor: null }, parties);
    return {
      ...(await this.auth.accessToken(user.id, issued.sessionId, issued.authentication)),
      refreshToken: issued.refreshToken,
    };
  }

  // ---- second step of a password login ----

  async secondFactorOptions(mfaToken: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
    this.requireEnabled();
    const pending = await this.mfa.pendingLogin(mfaToken);
    if (!pending) throw new UnauthorizedException(INVALID_MFA_TOKEN);
    const own = await this.passkeys
      .find({ owner: pending.userId })
      .select({ credentialId: 1, transports: 1 })
      .lean();
    if (own.length === 0) throw new NotFoundException('This account has no passkey');
    return this.requestOptions(
      'second_factor',
      { user: pending.userId, binding: pending.id },
      own.map((c) => ({ id: c.credentialId, transports: c.transports })),
      'preferred',
    );
  }

  /**
   * Finishes the login whose password was right (mfaToken) with one of the account's passkeys:
   * amr `pwd` + `hwk`/`swk` + `mfa`. Counted like a code until it passes; the mfaToken is used
   * up once it does.
   */
  async secondFactor(
    mfaToken: string,
    response: AuthenticationResponseJSON,
    client: ClientInfo,
  ): Promise<TokenResponseDto> {
    this.requireEnabled();
    const ceremony = 'second_factor';
    const pending = await this.mfa.pendingLogin(mfaToken);
    if (!pending) {
      this.failed('invalid_token', ceremony, null, client);
      throw new UnauthorizedException(INVALID_MFA_TOKEN);
    }
    await this.throttle.countAttempt(pending.email, client.ip);
    let asserted: Asserted;
    try {
      asserted = await this.assert(
        response,
        ceremony,
        { user: pending.userId, binding: pending.id },
        client,
      );
      if (asserted.user.credentialVersion !== pending.credential) {
        throw new PasskeyRefusal('invalid_token', pending.userId);
      }
      if (!asserted.user.active) throw new PasskeyRefusal('disabled', pending.userId);
      if (!(await this.mfa.spendLogin(pending))) {
        throw new PasskeyRefusal('invalid_token', pending.userId);
      }
    } catch (error) {
      const refusal =
        error instanceof PasskeyRefusal && error.reason === 'invalid_token'
          ? new UnauthorizedException(INVALID_MFA_TOKEN)
          : new UnauthorizedException(NOT_ACCEPTED);
      throw this.refused(error, ceremony, client, refusal);
    }
    await this.throttle.reset(pending.email, client.ip);
    const { user } = asserted;
    await this.used(asserted, ceremony, client);
    const issued = await this.sessions.create(
      user.id,
      { credential: pending.credential, methods: [...pending.firstFactor, asserted.key, 'mfa'] },
      client,
    );
    const parties = { actor: user.id, subject: user.id, session: issued.sessionId, client };
    this.audit.record('mfa.succeeded', { method: 'passkey' }, parties);
    this.audit.record('login.succeeded', { secondFactor: 'passkey' }, parties);
    return {
      ...(await this.auth.accessToken(user.id, issued.sessionId, issued.authentication)),
      refreshToken: issued.refreshToken,
    };
  }

  // ---- re-authentication ----

  async reauthenticationOptions(user: AuthUser): Promise<PublicKeyCredentialRequestOptionsJSON> {
    this.requireEnabled();
    const own = await this.passkeys
      .find({ owner: user.id })
      .select({ credentialId: 1, transports: 1 })
      .lean();
    if (own.length === 0) throw new NotFoundException('You have no passkey');
    return this.requestOptions(
      'reauthentication',
      this.sessionOwner(user),
      own.map((c) => ({ id: c.credentialId, transports: c.transports })),
      'preferred',
    );
  }

  /**
   * A signed-in user's passkey as a step-up proof: the methods for the session's new
   * authentication (`hwk`/`swk`, plus `mfa` with user verification). 400 when refused; counted
   * like a login attempt until it passes.
   */
  async reauthenticate(
    user: AuthUser,
    response: AuthenticationResponseJSON,
    client: ClientInfo,
  ): Promise<AuthMethod[]> {
    this.requireEnabled();
    const ceremony = 'reauthentication';
    await this.throttle.countAttempt(user.email, client.ip);
    let asserted: Asserted;
    try {
      asserted = await this.assert(response, ceremony, this.sessionOwner(user), client);
    } catch (error) {
      throw this.refused(error, ceremony, client, new BadRequestException(NOT_ACCEPTED));
    }
    await this.throttle.reset(user.email, client.ip);
    await this.used(asserted, ceremony, client);
    return asserted.userVerified ? [asserted.key, 'mfa'] : [asserted.key];
  }

  // ---- the ceremony's checks ----

  private async requestOptions(
    ceremony: Ceremony,
    owner: ChallengeOwner,
    allowCredentials: { id: string; transports: string[] }[] | undefined,
    userVerification: 'required' | 'preferred',
  ): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const options = await generateAuthenticationOptions({
      rpID: this.rpId,
      allowCredentials,
      timeout: CHALLENGE_TTL_MS,
      userVerification,
    });
    await this.challenges.store(options.challenge, ceremony, owner);
    return options;
  }

  /**
   * The challenge (used up whatever follows, then checked against the ceremony and `owner`),
   * the credential (the challenge's account's own when it is bound to one), then origin, RP
   * ID, signature and counter. Throws PasskeyRefusal.
   */
  private async assert(
    response: AuthenticationResponseJSON,
    ceremony: Ceremony,
    owner: ChallengeOwner,
    client: ClientInfo,
    preloaded?: PasskeyDocument | null,
  ): Promise<Asserted> {
    const challenge = signedChallenge(response.response.clientDataJSON);
    if (challenge === null || !(await this.challenges.consume(challenge, ceremony, owner))) {
      throw new PasskeyRefusal('invalid_challenge', owner.user);
    }
    const passkey = preloaded === undefined ? await this.findCredential(response.id) : preloaded;
    if (!passkey) throw new PasskeyRefusal('unknown_credential', owner.user);
    const ownerId = passkey.owner.toString();
    if (owner.user !== null && ownerId !== owner.user) {
      throw new PasskeyRefusal('wrong_account', owner.user);
    }
    // A discoverable credential names its account too: it must be the credential's.
    const handle = response.response.userHandle;
    if (handle && Buffer.from(handle, 'base64url').toString('hex') !== ownerId) {
      throw new PasskeyRefusal('wrong_account', ownerId);
    }
    const user = await this.users.findById(ownerId);
    if (!user) throw new PasskeyRefusal('unknown_credential', null);
    let verification: VerifiedAuthenticationResponse;
    try {
      verification = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: this.origins,
        expectedRPID: this.rpId,
        // The counter is compared below, once the signature is known to be the key's own.
        credential: {
          id: passkey.credentialId,
          publicKey: new Uint8Array(passkey.publicKey),
          counter: 0,
          transports: passkey.transports,
        },
        requireUserVerification: false,
      });
    } catch {
      throw new PasskeyRefusal('not_verified', ownerId);
    }
    if (!verification.verified) throw new PasskeyRefusal('not_verified', ownerId);
    const { newCounter, userVerified, credentialBackedUp } = verification.authenticationInfo;
    if ((newCounter > 0 || passkey.counter > 0) && newCounter <= passkey.counter) {
      await this.counterRegressed(passkey, user, newCounter, client);
      throw new PasskeyRefusal('counter_regressed', ownerId);
    }
    passkey.counter = newCounter;
    passkey.backedUp = credentialBackedUp;
    return {
      passkey,
      user,
      userVerified,
      key: passkey.deviceType === 'singleDevice' ? 'hwk' : 'swk',
    };
  }

  /** The accepted assertion's counter and backup state are kept; it was used now. */
  private async used(asserted: Asserted, ceremony: PasskeyCeremony, client: ClientInfo) {
    const { passkey, user, userVerified } = asserted;
    await this.passkeys.updateOne(
      { _id: passkey._id },
      {
        $set: { counter: passkey.counter, backedUp: passkey.backedUp, lastUsedAt: new Date() },
      },
    );
    const parties: AuditParties = { actor: user.id, subject: user.id, client };
    this.audit.record(
      'passkey.login_succeeded',
      { credential: passkey.id, ceremony, userVerified },
      parties,
    );
  }

  /** WebAuthn L3 §6.1.1: a counter that went backwards may be a cloned authenticator. */
  private async counterRegressed(
    passkey: PasskeyDocument,
    user: AuthUserRecord,
    presented: number,
    client: ClientInfo,
  ): Promise<void> {
    this.audit.record(
      'passkey.counter_regressed',
      { credential: passkey.id, storedCounter: passkey.counter, presentedCounter: presented },
      byAnonymous(user.id, client),
    );
    try {
      const notices = this.options.securityNotices;
      if (notices) await notices.passkeyCounterRegressed?.(user, passkey.name);
      else if (this.mail.enabled) {
        this.mail.send(
          mails.passkeyCounterRegressed(user.email, this.mail.productName, passkey.name),
        );
      }
    } catch (error) {
      this.logger.error(
        `Security notice passkeyCounterRegressed failed: ${(error as Error).message}`,
      );
    }
  }

  /** Records the refusal and turns it into the answer (`refusal`); other errors go on as they are. */
  private refused(
    error: unknown,
    ceremony: PasskeyCeremony,
    client: ClientInfo,
    refusal: Error,
  ): unknown {
    if (!(error instanceof PasskeyRefusal)) return error;
    this.failed(error.reason, ceremony, error.subject, client);
    if (error.reason === 'disabled') return new ForbiddenException('This account is disabled');
    return refusal;
  }

  private failed(
    reason: PasskeyFailureReason,
    ceremony: PasskeyCeremony,
    subject: string | null,
    client: ClientInfo,
  ): void {
    this.audit.record('passkey.login_failed', { reason, ceremony }, byAnonymous(subject, client));
  }

  private findCredential(credentialId: string): Promise<PasskeyDocument | null> {
    return this.passkeys.findOne({ credentialId });
  }

  /** The caller's own passkey; 404 for anyone else's (admins included) and unknown ids. */
  private async own(user: AuthUser, id: string): Promise<PasskeyDocument> {
    this.requireEnabled();
    const passkey = OBJECT_ID.test(id) ? await this.passkeys.findById(id) : null;
    if (!passkey || passkey.owner.toString() !== user.id) {
      throw new NotFoundException('No such passkey');
    }
    return passkey;
  }

  private sessionOwner(user: AuthUser): ChallengeOwner {
    // Every access token has a session; one without cannot bind a challenge.
    if (user.sessionId === undefined) throw new UnauthorizedException();
    return { user: user.id, binding: user.sessionId };
  }

  private tooMany(): ConflictException {
    return new ConflictException(`An account may have ${this.maxPerUser} passkeys`);
  }

  private taken(): ConflictException {
    return new ConflictException('This passkey is already registered');
  }

  private requireEnabled(): void {
    if (!this.enabled) throw new NotFoundException();
  }

  /** The account is being deleted: its passkeys and challenges go (idempotent). */
  private async forget(userId: string): Promise<void> {
    await this.passkeys.deleteMany({ owner: userId });
    await this.challenges.forget(userId);
  }
}

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  OnModuleDestroy,
  OnModuleInit,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, trusted } from 'mongoose';

import { UserLifecycle } from '../accounts/user-lifecycle.service.js';
import type { AuthUserRecord } from '../accounts/users.service.js';
import { UsersService } from '../accounts/users.service.js';
import type { OidcFailureReason } from '../audit/audit-events.js';
import { AuditRecorder, byAnonymous, byUser } from '../audit/audit-recorder.service.js';
import type { AuthModuleOptions } from '../auth.options.js';
import { AUTH_OPTIONS } from '../auth.options.js';
import { AuthService } from '../auth.service.js';
import type { AuthMethod } from '../core/auth-methods.js';
import type { AuthUser } from '../core/auth-user.js';
import type { ClientInfo } from '../core/client-info.js';
import type { TokenResponseDto } from '../dto/token-response.dto.js';
import type { MfaChallengeDto } from '../mfa/dto/mfa.dto.js';
import { MfaService } from '../mfa/mfa.service.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { isDuplicateKeyError } from '../shared/duplicate-key.js';
import type { LoginAttempt } from '../throttling/login-throttle.service.js';
import {
  LoginThrottleService,
  TooManyLoginAttemptsException,
} from '../throttling/login-throttle.service.js';
import type { IdentityDto, ProviderDto } from './dto/oidc.dto.js';
import type { ProviderClaims } from './oidc-client.service.js';
import { OidcClient, OidcFlowError, ProviderUnreachableError } from './oidc-client.service.js';
import type { OidcProviderOptions } from './oidc-settings.js';
import { Identity } from './schemas/identity.schema.js';
import { OidcLoginCode, OidcTransaction } from './schemas/oidc-transaction.schema.js';

/** A sign-in or link started at the provider lives this long. */
export const OIDC_TRANSACTION_TTL_SECONDS = 600;
/** The one-time code in the redirect's fragment lives this long. */
export const OIDC_CODE_TTL_SECONDS = 60;
/** The cookie that binds a flow to the browser that started it. */
export const OIDC_BROWSER_COOKIE = 'gh_oidc';
const PURGE_INTERVAL_MS = 15 * 60 * 1000;
const INVALID_CODE = 'Invalid or expired sign-in code';
const INVALID_LINK_CODE = 'Invalid or expired link code';
const LAST_WAY =
  'This is your last way to sign in: set a password (password reset), add a passkey or link ' +
  'another provider first';

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');
const token = (): string => randomBytes(32).toString('base64url');
/** Whether `verifier` is the one whose base64url(SHA-256) is `challenge` (constant time). */
const verifies = (challenge: string | null, verifier: string): boolean => {
  if (!challenge) return false;
  const expected = Buffer.from(challenge);
  const actual = Buffer.from(createHash('sha256').update(verifier).digest('base64url'));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
};

/** Where `/start` sends the browser, and the cookie it sets on the way. */
export interface StartAnswer {
  location: string;
  cookie: string;
}

/** A resolved callback: the account it signs in (or was linked to). */
interface Resolved {
  user: AuthUserRecord;
  linked: boolean;
}

/**
 * Sign-in with OpenID Connect providers (docs/oidc.md): the transactions between the redirect and
 * the callback, the accounts and their linked identities, the one-time code a front end exchanges
 * for the usual token pair. Every "only once" is a read by `_id` and a delete whose count decides
 * (one caller deletes the document, on MongoDB and FerretDB alike).
 */
@Injectable()
export class OidcService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(OidcService.name);
  private readonly allowlist: string[];
  private readonly signup: boolean;
  private readonly trustProviderMfa: boolean;
  private purgeTimer?: NodeJS.Timeout;

  constructor(
    @InjectModel(Identity.name) private readonly identities: Model<Identity>,
    @InjectModel(OidcTransaction.name) private readonly transactions: Model<OidcTransaction>,
    @InjectModel(OidcLoginCode.name) private readonly codes: Model<OidcLoginCode>,
    private readonly client: OidcClient,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly auth: AuthService,
    private readonly mfa: MfaService,
    private readonly throttle: LoginThrottleService,
    private readonly lifecycle: UserLifecycle,
    private readonly audit: AuditRecorder,
    @Inject(AUTH_OPTIONS) options: AuthModuleOptions,
  ) {
    this.allowlist = options.oidc?.redirectAllowlist ?? [];
    this.signup = options.oidc?.signup !== false;
    this.trustProviderMfa = options.oidc?.trustProviderMfa === true;
  }

  async onModuleInit(): Promise<void> {
    await Promise.all([this.identities.init(), this.transactions.init(), this.codes.init()]);
    this.lifecycle.register({
      userDeleting: (userId) => this.forget(userId),
      signInWays: (userId) => this.identities.countDocuments({ user: userId }),
    });
    this.purgeTimer = setInterval(() => void this.purgeExpired(), PURGE_INTERVAL_MS);
    this.purgeTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.purgeTimer);
  }

  providers(): ProviderDto[] {
    return this.client.list().map(({ id, name }) => ({
      id,
      name,
      startUrl: this.client.startUrl(id),
    }));
  }

  // ---- starting ----

  /**
   * A sign-in (`redirect`) or a link a signed-in user asked for (`link` ticket): the flow is
   * stored, bound to this browser by a cookie, and the browser sent to the provider.
   */
  async start(
    providerId: string,
    query: { redirect?: string; link?: string; challenge?: string },
  ): Promise<StartAnswer> {
    const provider = this.client.provider(providerId);
    if (query.link !== undefined && query.redirect !== undefined) {
      throw new BadRequestException('Send either redirect or link');
    }
    if (query.link === undefined && query.challenge === undefined) {
      throw new BadRequestException(
        'challenge is required: base64url(SHA-256(verifier)) of a verifier the front end keeps',
      );
    }
    let purpose: 'login' | 'link' = 'login';
    let user: string | null = null;
    let redirect: string;
    const flow = this.client.newFlow();
    const location = await this.client.authorizationUrl(provider, flow).catch((error: unknown) => {
      if (error instanceof ProviderUnreachableError) {
        throw new ServiceUnavailableException('The sign-in provider cannot be reached');
      }
      throw error;
    });
    // A link request is claimed only once the provider is known to answer: an unreachable one
    // (503) leaves it usable for a retry.
    if (query.link !== undefined) {
      const ticket = await this.claim(sha256(`link:${query.link}`));
      if (!ticket || ticket.kind !== 'start' || ticket.provider !== provider.id) {
        throw new BadRequestException('Invalid or expired link request');
      }
      if (ticket.expiresAt.getTime() <= Date.now()) {
        throw new BadRequestException('Invalid or expired link request');
      }
      purpose = 'link';
      user = ticket.user?.toString() ?? null;
      redirect = ticket.redirect;
    } else {
      redirect = this.allowedRedirect(query.redirect);
    }
    const browser = token();
    await this.transactions.create({
      _id: sha256(flow.state),
      kind: 'flow',
      provider: provider.id,
      purpose,
      user,
      redirect,
      nonce: flow.nonce,
      codeVerifier: flow.codeVerifier,
      browser: sha256(browser),
      challenge: query.challenge ?? null,
      expiresAt: new Date(Date.now() + OIDC_TRANSACTION_TTL_SECONDS * 1000),
    });
    return { location, cookie: this.cookie(browser, OIDC_TRANSACTION_TTL_SECONDS) };
  }

  /** A link for the signed-in user: the URL the browser opens to start it (10 minutes, once). */
  async startLink(user: AuthUser, providerId: string, redirect?: string): Promise<string> {
    const provider = this.client.provider(providerId);
    const target = this.allowedRedirect(redirect);
    const ticket = token();
    await this.transactions.create({
      _id: sha256(`link:${ticket}`),
      kind: 'start',
      provider: provider.id,
      purpose: 'link',
      user: user.id,
      redirect: target,
      expiresAt: new Date(Date.now() + OIDC_TRANSACTION_TTL_SECONDS * 1000),
    });
    const url = new URL(this.client.startUrl(provider.id));
    url.searchParams.set('link', ticket);
    return url.href;
  }

  // ---- the callback ----

  /**
   * Finishes a flow; never throws. Answers where to send the browser: the flow's redirect with
   * `#code=` (sign-in) or `#link_code=` (link, for its user to confirm), or `#error=<reason>` (the first allowlisted URL when
   * the flow itself is unknown). Every failure counts against the client's login limits.
   */
  async callback(
    providerId: string,
    query: URLSearchParams,
    cookieHeader: string | undefined,
    client: ClientInfo,
  ): Promise<{ location: string; cookie: string }> {
    const provider = this.client.provider(providerId);
    const clear = this.cookie('', 0);
    let redirect = this.allowlist[0];
    let subject: string | null = null;
    let attempt: LoginAttempt | undefined;
    try {
      const state = query.getAll('state');
      attempt = await this.throttle.recordAttempt(
        `oidc:${provider.id}:${sha256(state.join(' '))}`,
        client.ip,
      );
      if (state.length !== 1) throw new OidcFlowError('invalid_state');
      const flow = await this.claim(sha256(state[0]));
      if (!flow || flow.kind !== 'flow' || flow.provider !== provider.id) {
        throw new OidcFlowError('invalid_state');
      }
      redirect = flow.redirect;
      subject = flow.user?.toString() ?? null;
      const browser = readCookie(cookieHeader, OIDC_BROWSER_COOKIE);
      if (!browser || !flow.browser || sha256(browser) !== flow.browser) {
        throw new OidcFlowError('invalid_state', 'the flow was started by another browser');
      }
      if (flow.expiresAt.getTime() <= Date.now()) throw new OidcFlowError('expired');
      const claims = await this.client.finish(provider, query, {
        state: state[0],
        nonce: flow.nonce ?? '',
        codeVerifier: flow.codeVerifier ?? '',
      });
      if (flow.purpose === 'link') {
        // Nothing is linked yet: the browser that reached here may not be the one of the user the
        // link is for (a link URL opened in someone else's browser). That user confirms it.
        const owner = await this.linkable(provider, claims.sub, subject, claims.issuer);
        const code = await this.issueLinkCode(owner, provider, claims, flow.challenge);
        await this.throttle.succeeded(attempt);
        return { location: `${redirect}#link_code=${code}`, cookie: clear };
      }
      const resolved = await this.resolve(provider, claims, client);
      subject = resolved.user.id;
      const code = await this.issueCode(resolved.user, provider, claims, flow.challenge);
      await this.throttle.succeeded(attempt);
      return { location: `${redirect}#code=${code}`, cookie: clear };
    } catch (error) {
      const reason = this.failureReason(provider, error);
      if (attempt) await this.throttle.failed(attempt).catch(() => undefined);
      this.audit.record(
        'oidc.login_failed',
        { provider: provider.id, reason },
        byAnonymous(subject, client),
      );
      return { location: `${redirect}#error=${reason}`, cookie: clear };
    }
  }

  /**
   * The account a sign-in opens: the linked one; else, on a verified provider email, the local
   * account with that email when it verified it too (linked now), or a new one (OIDC_SIGNUP).
   */
  private async resolve(
    provider: OidcProviderOptions,
    claims: ProviderClaims,
    client: ClientInfo,
    retried = false,
  ): Promise<Resolved> {
    const identity = await this.identities.findOne({ provider: provider.id, sub: claims.sub });
    if (identity) {
      // Another issuer's `sub` is another person, whatever the value: never their account.
      if (identity.issuer && identity.issuer !== claims.issuer) {
        throw new OidcFlowError('identity_in_use', 'the identity was linked from another issuer');
      }
      const user = await this.users.findById(identity.user.toString());
      if (!user || !user.active) throw new OidcFlowError('account_disabled');
      return { user, linked: false };
    }
    // Never on an unverified provider email: anyone can claim any address there.
    if (!claims.email || !claims.emailVerified) throw new OidcFlowError('email_not_verified');
    const local = await this.users.findByEmail(claims.email);
    if (local) {
      // Whoever signed up with the address may not own it: its owner links from their account.
      if (!local.emailVerified) throw new OidcFlowError('local_account_unverified');
      if (!local.active) throw new OidcFlowError('account_disabled');
      await this.addIdentity(local.id, provider, claims, 'identity_in_use');
      this.audit.record(
        'identity.linked',
        { provider: provider.id, by: 'email' },
        byUser(local, client),
      );
      return { user: local, linked: true };
    }
    if (!this.signup) throw new OidcFlowError('signup_disabled');
    const user = await this.users
      .create({
        email: claims.email,
        name: (claims.name ?? claims.email.split('@')[0]).slice(0, 100),
        emailVerified: true,
      })
      .catch((error: unknown) => {
        if (error instanceof ConflictException) return null;
        throw error;
      });
    if (!user) {
      // Someone signed up with the address meanwhile (or this sign-in's twin did): the rules
      // for an existing account decide, once.
      if (retried) throw new OidcFlowError('server_error', 'the account appeared and vanished');
      return this.resolve(provider, claims, client, true);
    }
    await this.addIdentity(user.id, provider, claims, 'identity_in_use');
    this.audit.record('user.signed_up', { method: 'oidc' }, byUser(user, client));
    this.audit.record(
      'identity.linked',
      { provider: provider.id, by: 'signup' },
      byUser(user, client),
    );
    return { user, linked: true };
  }

  /**
   * The account a link is for, when the provider account can be linked to it: not linked to
   * another account (already linked to this one is fine).
   */
  private async linkable(
    provider: OidcProviderOptions,
    sub: string,
    userId: string | null,
    issuer: string | null,
  ): Promise<AuthUserRecord> {
    const owner = userId ? await this.users.findById(userId) : null;
    if (!owner || !owner.active) throw new OidcFlowError('account_disabled');
    const identity = await this.identities.findOne({ provider: provider.id, sub });
    const otherIssuer = Boolean(identity?.issuer && issuer && identity.issuer !== issuer);
    if (identity && (identity.user.toString() !== owner.id || otherIssuer)) {
      throw new OidcFlowError('identity_in_use');
    }
    return owner;
  }

  /**
   * `POST /auth/identities/confirm`: the signed-in user finishes a link their browser came back
   * with. The code must be for them (403 otherwise, and spent); nothing is linked before.
   */
  async confirmLink(
    user: AuthUser,
    code: string,
    verifier: string | undefined,
    client: ClientInfo,
  ): Promise<IdentityDto> {
    const id = sha256(code);
    const record = await this.codes.findById(id);
    if (!record || record.purpose !== 'link') throw new BadRequestException(INVALID_LINK_CODE);
    const { deletedCount } = await this.codes.deleteOne({ _id: id });
    if (deletedCount !== 1 || record.expiresAt.getTime() <= Date.now() || !record.sub) {
      throw new BadRequestException(INVALID_LINK_CODE);
    }
    const forUser = record.user.toString();
    if (forUser !== user.id || (record.challenge && !verifies(record.challenge, verifier ?? ''))) {
      // Someone else's link URL finished in this browser: never link their account here.
      this.audit.record(
        'oidc.login_failed',
        {
          provider: record.provider,
          reason: forUser !== user.id ? 'wrong_account' : 'verifier_mismatch',
        },
        byAnonymous(forUser, client),
      );
      throw new ForbiddenException('This link was started by another account');
    }
    const provider = this.client.provider(record.provider);
    try {
      const owner = await this.linkable(provider, record.sub, user.id, record.issuer);
      const existing = await this.identities.findOne({ provider: provider.id, sub: record.sub });
      if (!existing) {
        await this.addIdentity(
          owner.id,
          provider,
          { sub: record.sub, email: record.email, issuer: record.issuer },
          'already_linked',
        );
        this.audit.record(
          'identity.linked',
          { provider: provider.id, by: 'user' },
          byUser(user, client),
        );
      }
    } catch (error) {
      if (error instanceof OidcFlowError) {
        if (error.reason === 'account_disabled')
          throw new ForbiddenException('This account is disabled');
        throw new ConflictException(
          error.reason === 'identity_in_use'
            ? 'This provider account is linked to another account'
            : 'Another account of this provider is linked to yours',
        );
      }
      throw error;
    }
    const linked = await this.list(user);
    const identity = linked.find((one) => one.provider === provider.id);
    if (!identity) throw new ConflictException('The link did not hold');
    return identity;
  }

  /** The unique indexes decide races: provider+sub, and one link per user and provider. */
  private async addIdentity(
    userId: string,
    provider: OidcProviderOptions,
    claims: Pick<ProviderClaims, 'sub' | 'email'> & { issuer: string | null },
    onDuplicate: OidcFailureReason,
  ): Promise<void> {
    try {
      await this.identities.create({
        provider: provider.id,
        sub: claims.sub,
        issuer: claims.issuer,
        user: userId,
        email: claims.email,
        linkedAt: new Date(),
      });
    } catch (error) {
      if (isDuplicateKeyError(error)) throw new OidcFlowError(onDuplicate);
      throw error;
    }
  }

  private async issueCode(
    user: AuthUserRecord,
    provider: OidcProviderOptions,
    claims: ProviderClaims,
    challenge: string | null,
  ): Promise<string> {
    const methods: AuthMethod[] = ['fed'];
    if (this.trustProviderMfa && claims.amr.includes('mfa')) methods.push('mfa');
    const code = token();
    await this.codes.create({
      _id: sha256(code),
      user: user.id,
      provider: provider.id,
      credential: user.credentialVersion,
      methods,
      challenge,
      expiresAt: new Date(Date.now() + OIDC_CODE_TTL_SECONDS * 1000),
    });
    return code;
  }

  private async issueLinkCode(
    user: AuthUserRecord,
    provider: OidcProviderOptions,
    claims: ProviderClaims,
    challenge: string | null,
  ): Promise<string> {
    const code = token();
    await this.codes.create({
      _id: sha256(code),
      user: user.id,
      provider: provider.id,
      credential: user.credentialVersion,
      methods: [],
      purpose: 'link',
      sub: claims.sub,
      issuer: claims.issuer,
      email: claims.email,
      challenge,
      expiresAt: new Date(Date.now() + OIDC_CODE_TTL_SECONDS * 1000),
    });
    return code;
  }

  private failureReason(provider: OidcProviderOptions, error: unknown): OidcFailureReason {
    if (error instanceof OidcFlowError) {
      if (error.message !== error.reason) {
        this.logger.warn(`${provider.id}: ${error.reason}: ${error.message}`);
      }
      return error.reason;
    }
    if (error instanceof TooManyLoginAttemptsException) return 'throttled';
    this.logger.error(
      `${provider.id}: callback failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    return 'server_error';
  }

  // ---- the exchange ----

  /**
   * The front end's one-time code for the usual token pair, or, when the account has a second
   * factor the provider's sign-in does not stand for, the same challenge a password login gets.
   */
  async exchange(
    code: string,
    verifier: string,
    client: ClientInfo,
  ): Promise<TokenResponseDto | MfaChallengeDto> {
    const id = sha256(code);
    const record = await this.codes.findById(id);
    if (!record || record.purpose === 'link') throw new UnauthorizedException(INVALID_CODE);
    // Spent whatever follows: a code tried with a wrong verifier is not tried again.
    const { deletedCount } = await this.codes.deleteOne({ _id: id });
    if (deletedCount !== 1 || record.expiresAt.getTime() <= Date.now()) {
      throw new UnauthorizedException(INVALID_CODE);
    }
    const userId = record.user.toString();
    // The code works only for the front end that started the flow (login CSRF: an attacker's
    // code sent to a victim's browser).
    if (!verifies(record.challenge, verifier)) {
      this.audit.record(
        'oidc.login_failed',
        { provider: record.provider, reason: 'verifier_mismatch' },
        byAnonymous(userId, client),
      );
      throw new UnauthorizedException(INVALID_CODE);
    }
    const user = await this.users.findById(userId);
    if (!user || user.credentialVersion !== record.credential) {
      throw new UnauthorizedException(INVALID_CODE);
    }
    const provider = record.provider;
    if (!user.active) {
      this.audit.record(
        'oidc.login_failed',
        { provider, reason: 'account_disabled' },
        byAnonymous(userId, client),
      );
      throw new ForbiddenException('This account is disabled');
    }
    if (!record.methods.includes('mfa') && (await this.secondFactorRequired(userId))) {
      this.audit.record('mfa.required', {}, byAnonymous(userId, client));
      return this.mfa.challenge(user, user.email, record.methods);
    }
    const issued = await this.sessions.create(
      userId,
      { credential: record.credential, methods: record.methods },
      client,
    );
    this.audit.record(
      'oidc.login_succeeded',
      { provider },
      { actor: userId, subject: userId, session: issued.sessionId, client },
    );
    return {
      ...(await this.auth.accessToken(userId, issued.sessionId, issued.authentication)),
      refreshToken: issued.refreshToken,
    };
  }

  // ---- identities ----

  async list(user: AuthUser): Promise<IdentityDto[]> {
    const names = new Map(this.client.list().map((p) => [p.id, p.name]));
    const linked = await this.identities.find({ user: user.id }).lean();
    return linked
      .map((identity) => ({
        provider: identity.provider,
        name: names.get(identity.provider) ?? identity.provider,
        email: identity.email ?? null,
        linkedAt: identity.linkedAt,
      }))
      .sort((a, b) => a.provider.localeCompare(b.provider));
  }

  /**
   * 404 when not linked; 409 when it is the account's last way to sign in (no password, no other
   * provider, no passkey). Race-safe: removed first, then the ways left counted; restored when
   * none is (two removals at the same moment cannot both leave the other one).
   */
  async unlink(user: AuthUser, providerId: string, client: ClientInfo): Promise<void> {
    const identity = await this.identities.findOne({ user: user.id, provider: providerId }).lean();
    if (!identity) throw new NotFoundException('This provider is not linked to your account');
    const { deletedCount } = await this.identities.deleteOne({ _id: identity._id });
    if (deletedCount !== 1)
      throw new NotFoundException('This provider is not linked to your account');
    if (!(await this.hasWayToSignIn(user.id))) {
      await this.identities.create(identity);
      throw new ConflictException(LAST_WAY);
    }
    this.audit.record('identity.unlinked', { provider: providerId }, byUser(user, client));
  }

  /**
   * TOTP (MfaService), or a passkey (a second step MfaService's challenge can finish, so only
   * while the second factor is on): a provider's sign-in is one factor.
   */
  private async secondFactorRequired(userId: string): Promise<boolean> {
    if (await this.mfa.isRequired(userId)) return true;
    return this.mfa.enabled && (await this.lifecycle.hasSecondFactor(userId));
  }

  /** A password, a linked provider, a passkey (whatever registered with UserLifecycle). */
  private async hasWayToSignIn(userId: string): Promise<boolean> {
    if ((await this.users.getPasswordHash(userId)) !== null) return true;
    return (await this.lifecycle.signInWays(userId)) > 0;
  }

  // ---- helpers ----

  /** 400 for a return URL not on the allowlist (exact match); the first one by default. */
  private allowedRedirect(redirect: string | undefined): string {
    if (redirect === undefined) {
      if (this.allowlist.length === 0) throw new BadRequestException('redirect is required');
      return this.allowlist[0];
    }
    if (!this.allowlist.includes(redirect)) {
      throw new BadRequestException('redirect is not an allowed return URL');
    }
    return redirect;
  }

  /** Reads a transaction by `_id` and claims it: the one caller whose delete removed it. */
  private async claim(id: string): Promise<OidcTransaction | null> {
    const found = await this.transactions.findById(id).lean<OidcTransaction>();
    if (!found) return null;
    const { deletedCount } = await this.transactions.deleteOne({ _id: id });
    return deletedCount === 1 ? found : null;
  }

  private cookie(value: string, maxAgeSeconds: number): string {
    const parts = [
      `${OIDC_BROWSER_COOKIE}=${value}`,
      `Path=${this.client.cookiePath}`,
      `Max-Age=${maxAgeSeconds}`,
      'HttpOnly',
      'SameSite=Lax',
    ];
    if (this.client.secureCookies) parts.push('Secure');
    return parts.join('; ');
  }

  /** Idempotent: runs when the user is deleted. */
  private async forget(userId: string): Promise<void> {
    await this.identities.deleteMany({ user: userId });
    await this.codes.deleteMany({ user: userId });
    await this.transactions.deleteMany({ user: userId });
  }

  private async purgeExpired(): Promise<void> {
    try {
      const now = trusted({ $lte: new Date() });
      await this.transactions.deleteMany({ expiresAt: now });
      await this.codes.deleteMany({ expiresAt: now });
    } catch (error) {
      this.logger.warn(`OIDC purge failed: ${(error as Error).message}`);
    }
  }
}

/** One cookie's value from a Cookie header (no cookie library needed for one name). */
function readCookie(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim() || null;
  }
  return null;
}

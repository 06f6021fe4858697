import { Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import type { Configuration, IDToken } from 'openid-client';
import * as client from 'openid-client';

import type { OidcFailureReason } from '../audit/audit-events.js';
import type { AuthModuleOptions } from '../auth.options.js';
import { AUTH_OPTIONS } from '../auth.options.js';
import type { OidcProviderOptions } from './oidc-settings.js';

/** A provider that cannot be reached (discovery, token or userinfo endpoint). */
export class ProviderUnreachableError extends Error {}

/** A refused callback: the reason goes to the front end as `#error=<reason>`. */
export class OidcFlowError extends Error {
  constructor(
    readonly reason: OidcFailureReason,
    detail?: string,
  ) {
    super(detail ?? reason);
  }
}

/** What the provider said about the person, from a validated ID token (and userinfo). */
export interface ProviderClaims {
  /** The ID token's `iss` (validated against the provider's discovery): with `sub`, the person. */
  issuer: string;
  sub: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  /** The provider's `amr` (RFC 8176 values or its own), as it sent them. */
  amr: string[];
}

/** What a flow keeps server-side between the redirect and the callback. */
export interface FlowSecrets {
  state: string;
  nonce: string;
  codeVerifier: string;
}

const DEFAULT_SCOPES = ['openid', 'email', 'profile'];
const DISCOVERY_TIMEOUT_SECONDS = 10;

/**
 * The relying party (openid-client): discovery on first use (cached; a failure is not), the
 * authorization URL (code flow, PKCE S256, state, nonce), and the callback's code exchange with
 * the ID token validated by openid-client (signature with the provider's keys and the algorithm
 * from discovery, issuer, audience, expiry, nonce; state and PKCE).
 */
@Injectable()
export class OidcClient {
  private readonly logger = new Logger(OidcClient.name);
  private readonly providers = new Map<string, OidcProviderOptions>();
  private readonly configurations = new Map<string, Promise<Configuration>>();
  private readonly baseUrl: string;
  private readonly insecure: boolean;

  constructor(@Inject(AUTH_OPTIONS) options: AuthModuleOptions) {
    for (const provider of options.oidc?.providers ?? []) this.providers.set(provider.id, provider);
    this.baseUrl = (options.oidc?.baseUrl ?? '').replace(/\/+$/, '');
    this.insecure = options.oidc?.allowInsecureRequests === true;
  }

  list(): OidcProviderOptions[] {
    return [...this.providers.values()];
  }

  /** 404 for an id that is not configured. */
  provider(id: string): OidcProviderOptions {
    const provider = this.providers.get(id);
    if (!provider) throw new NotFoundException('Unknown sign-in provider');
    return provider;
  }

  redirectUri(id: string): string {
    return `${this.baseUrl}/${id}/callback`;
  }

  startUrl(id: string): string {
    return `${this.baseUrl}/${id}/start`;
  }

  /** The path the kit's OIDC routes share (the browser-binding cookie's path). */
  get cookiePath(): string {
    return new URL(this.baseUrl).pathname || '/';
  }

  get secureCookies(): boolean {
    return new URL(this.baseUrl).protocol === 'https:';
  }

  newFlow(): FlowSecrets {
    return {
      state: client.randomState(),
      nonce: client.randomNonce(),
      codeVerifier: client.randomPKCECodeVerifier(),
    };
  }

  async authorizationUrl(provider: OidcProviderOptions, flow: FlowSecrets): Promise<string> {
    const config = await this.configuration(provider);
    const scopes = new Set([...(provider.scopes ?? DEFAULT_SCOPES), 'openid', 'email']);
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri(provider.id),
      response_type: 'code',
      scope: [...scopes].join(' '),
      state: flow.state,
      nonce: flow.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(flow.codeVerifier),
      code_challenge_method: 'S256',
    });
    return url.href;
  }

  /**
   * Exchanges the callback's code; `query` is the callback's query string as received. Throws
   * OidcFlowError with the reason to show.
   */
  async finish(
    provider: OidcProviderOptions,
    query: URLSearchParams,
    flow: FlowSecrets,
  ): Promise<ProviderClaims> {
    const config = await this.configuration(provider).catch(() => {
      throw new OidcFlowError('provider_unreachable');
    });
    const current = new URL(this.redirectUri(provider.id));
    current.search = query.toString();
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: flow.codeVerifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      throw this.grantError(provider, error);
    }
    const idToken = tokens.claims();
    if (!idToken) throw new OidcFlowError('invalid_id_token', 'no ID token');
    return this.claims(config, provider, idToken, tokens.access_token);
  }

  /** `email` and `email_verified` from the ID token, or from userinfo when it has none. */
  private async claims(
    config: Configuration,
    provider: OidcProviderOptions,
    idToken: IDToken,
    accessToken: string,
  ): Promise<ProviderClaims> {
    // The pair comes from one source: the ID token when it has both, else userinfo (its `sub`
    // checked against the ID token's by openid-client).
    let source: Record<string, unknown> = idToken;
    if (typeof idToken.email !== 'string' || idToken.email_verified === undefined) {
      try {
        source = { ...(await client.fetchUserInfo(config, accessToken, idToken.sub)) };
      } catch (error) {
        this.logger.warn(`${provider.id}: userinfo failed: ${describe(error)}`);
      }
    }
    const email = typeof source.email === 'string' ? source.email.trim().toLowerCase() : null;
    const verified = source.email_verified === true || source.email_verified === 'true';
    const amr = Array.isArray(idToken.amr)
      ? idToken.amr.filter((value): value is string => typeof value === 'string')
      : [];
    return {
      issuer: idToken.iss,
      sub: idToken.sub,
      email,
      emailVerified: email !== null && verified,
      name: displayName(idToken.name) ?? displayName(source.name),
      amr,
    };
  }

  private grantError(provider: OidcProviderOptions, error: unknown): OidcFlowError {
    this.logger.warn(`${provider.id}: callback refused: ${describe(error)}`);
    if (error instanceof client.AuthorizationResponseError) {
      return new OidcFlowError(
        error.error === 'access_denied' ? 'access_denied' : 'provider_error',
      );
    }
    if (error instanceof client.ResponseBodyError)
      return new OidcFlowError('token_exchange_failed');
    if (isNetworkError(error)) return new OidcFlowError('provider_unreachable');
    return new OidcFlowError('invalid_id_token');
  }

  /** Discovery once per provider; a failed one is forgotten, so the next use tries again. */
  private configuration(provider: OidcProviderOptions): Promise<Configuration> {
    let pending = this.configurations.get(provider.id);
    if (!pending) {
      pending = client
        .discovery(
          new URL(provider.issuer),
          provider.clientId,
          { client_secret: provider.clientSecret },
          client.ClientSecretPost(provider.clientSecret),
          {
            timeout: DISCOVERY_TIMEOUT_SECONDS,
            ...(this.insecure ? { execute: [client.allowInsecureRequests] } : {}),
          },
        )
        .catch((error: unknown) => {
          this.configurations.delete(provider.id);
          this.logger.warn(`${provider.id}: discovery failed: ${describe(error)}`);
          throw new ProviderUnreachableError(describe(error));
        });
      this.configurations.set(provider.id, pending);
    }
    return pending;
  }
}

function displayName(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

/** The error for the log: its class and message, its cause's, and a refused claim's name. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause: unknown = error.cause;
  let more = '';
  if (cause instanceof Error) more = ` <- ${describe(cause)}`;
  else if (typeof cause === 'object' && cause !== null && 'claim' in cause) {
    more = ` (claim ${String(cause.claim)})`;
  }
  return `${error.name}: ${error.message}${more}`;
}

function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return true;
  return error instanceof TypeError && /fetch failed/i.test(error.message);
}

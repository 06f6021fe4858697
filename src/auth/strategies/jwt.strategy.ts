import {
  Inject,
  Injectable,
  InternalServerErrorException,
  UnauthorizedException,
} from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Jwt } from 'jsonwebtoken';
import passport from 'passport';
import type { JwtFromRequestFunction } from 'passport-jwt';
import { ExtractJwt, Strategy } from 'passport-jwt';

import type { AccessTokenPayload } from '../access-token.js';
import { hasAccessTokenClaims, isAccessTokenType } from '../access-token.js';
import type { AuthModuleOptions } from '../auth.options.js';
import { AUTH_OPTIONS } from '../auth.options.js';
import type { AuthUser } from '../core/auth-user.js';
import { PrincipalService } from '../principal.service.js';
import type { TokenKeys } from '../token-keys.js';
import { TOKEN_KEYS } from '../token-keys.js';
import { VerifiedTokens } from '../verified-tokens.js';

/** Verified tokens remembered per instance (about 1 KB each). */
const MAX_VERIFIED_TOKENS = 10_000;

/** Only from the Authorization header, never a query string. */
const bearerToken: JwtFromRequestFunction = ExtractJwt.fromAuthHeaderAsBearerToken();

/** The request type passport-jwt's typings use (Fastify's and Express's requests both fit at run time). */
type BearerRequest = Parameters<Strategy['authenticate']>[0];

/** What a strategy's error is answered with: its own status, or 500 for anything not an Error. */
const failure = (error: unknown): Error =>
  error instanceof Error ? error : new InternalServerErrorException();

/** What passport's `authenticate()` returns: Connect-style middleware. */
type PassportMiddleware = (
  request: unknown,
  response: unknown,
  next: (error?: unknown) => void,
) => void;

/**
 * Runs strategies it is handed, never by name: it holds none. passport's default instance is one
 * registry per process, where a strategy registered as 'jwt' is replaced by the next one of that
 * name (a host's own passport-jwt strategy, the kit of a second app in the process), which would
 * then authenticate every app's requests with its own keys and checks.
 */
const authenticator = new passport.Passport();

/**
 * Verifies the bearer token (only from the Authorization header; never a query string) with the
 * one configured algorithm, issuer and audience; requires the `at+jwt` header type and every claim
 * (see access-token.ts), then loads the user for this request.
 *
 * A token passport-jwt has verified is remembered until its expiry (see verified-tokens.ts): the
 * same token on a later request is checked again for expiry and age, then goes straight to the
 * per-request account and session checks, as passport-jwt would after verifying it.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) {
  private readonly accessTtlSeconds: number;
  private readonly verified = new VerifiedTokens<Jwt>(MAX_VERIFIED_TOKENS);

  constructor(
    @Inject(TOKEN_KEYS) keys: TokenKeys,
    @Inject(AUTH_OPTIONS) options: AuthModuleOptions,
    private readonly principals: PrincipalService,
  ) {
    super({
      jwtFromRequest: bearerToken,
      // validate() gets the request, to remember the token it was given.
      passReqToCallback: true,
      // A KeyObject (not a string) keeps verification cheap; @types/passport-jwt predates it.
      secretOrKey: keys.verifyKey as unknown as Buffer,
      algorithms: [keys.algorithm],
      issuer: options.jwt.issuer,
      audience: options.jwt.audience,
      ignoreExpiration: false,
      // The decoded header comes along, so `typ` is checked without decoding the token twice.
      jsonWebTokenOptions: { complete: true },
    });
    this.accessTtlSeconds = options.jwt.accessTtlSeconds ?? 900;
  }

  /**
   * The user of this request's bearer token; rejects with 401 when the token is missing or
   * refused, and with the error of a check that threw.
   *
   * A token verified before goes straight to the checks passport-jwt's callback runs once it has
   * verified one (`check`), as the strategy's own `authenticate` did when this path went through
   * passport: passport only relayed that check's answer (3% of GET /users/me in a CPU profile).
   * Any other token goes through passport, which is handed this strategy itself, in a new
   * object per request as it makes for a strategy it knows by name, so concurrent requests
   * never share the success and failure callbacks it sets. (passport-jwt never redirects:
   * passport's redirect would write to the raw response and settle nothing here.)
   */
  authenticateRequest(request: object, response: object): Promise<AuthUser> {
    const raw = bearerToken(request as BearerRequest);
    const known = raw === null ? undefined : this.verified.get(raw, Date.now());
    if (known !== undefined) {
      // As passport's callback answers: a falsy error is a refusal, not a fault.
      return this.check(known).catch((error: unknown) =>
        Promise.reject(error ? failure(error) : new UnauthorizedException()),
      );
    }
    return new Promise((resolve, reject) => {
      const middleware = authenticator.authenticate(
        Object.create(this) as this,
        { session: false },
        (error: unknown, user: AuthUser | false | undefined) => {
          if (error) reject(failure(error));
          else if (user) resolve(user);
          else reject(new UnauthorizedException());
        },
      ) as PassportMiddleware;
      // Reached by a strategy's pass() (no user: refused) or an error without the callback.
      middleware(request, response, (error) =>
        reject(error ? failure(error) : new UnauthorizedException()),
      );
    });
  }

  /**
   * Where @nestjs/passport's mixin registers the strategy as it is built: a registry of its own,
   * dropped at once (the kit never looks a strategy up by name, see `authenticator`).
   */
  getPassportInstance(): passport.Authenticator {
    return new passport.Passport();
  }

  /** Called by passport-jwt with a token whose signature, issuer, audience and expiry it verified. */
  validate(request: BearerRequest, token: Jwt): Promise<AuthUser> {
    const raw = bearerToken(request);
    if (raw !== null && this.isAccessToken(token)) {
      // Remembered even when the account checks below refuse it: its signature stays verified.
      this.verified.set(raw, token, token.payload.exp * 1000);
    }
    return this.check(token);
  }

  private async check(token: Jwt): Promise<AuthUser> {
    if (!this.isAccessToken(token)) throw new UnauthorizedException();
    return this.principals.resolve(token.payload);
  }

  /** The header type and the claims, `exp` and maximum age included (checked at every use). */
  private isAccessToken(
    token: Jwt,
  ): token is Jwt & { payload: Record<string, unknown> & AccessTokenPayload } {
    const { header, payload } = token;
    return (
      isAccessTokenType(header.typ) &&
      typeof payload === 'object' &&
      hasAccessTokenClaims(payload, this.accessTtlSeconds)
    );
  }
}

import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Jwt } from 'jsonwebtoken';
import { ExtractJwt, Strategy } from 'passport-jwt';

import { hasAccessTokenClaims, isAccessTokenType } from '../access-token.js';
import type { AuthModuleOptions } from '../auth.options.js';
import { AUTH_OPTIONS } from '../auth.options.js';
import type { AuthUser } from '../core/auth-user.js';
import { PrincipalService } from '../principal.service.js';
import type { TokenKeys } from '../token-keys.js';
import { TOKEN_KEYS } from '../token-keys.js';

/**
 * Verifies the bearer token (only from the Authorization header; never a query string) with the
 * one configured algorithm, issuer and audience; requires the `at+jwt` header type and every claim
 * (see access-token.ts), then loads the user for this request.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  private readonly accessTtlSeconds: number;

  constructor(
    @Inject(TOKEN_KEYS) keys: TokenKeys,
    @Inject(AUTH_OPTIONS) options: AuthModuleOptions,
    private readonly principals: PrincipalService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
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

  validate(token: Jwt): Promise<AuthUser> {
    const { header, payload } = token;
    if (
      !isAccessTokenType(header.typ) ||
      typeof payload !== 'object' ||
      !hasAccessTokenClaims(payload, this.accessTtlSeconds)
    ) {
      throw new UnauthorizedException();
    }
    return this.principals.resolve(payload);
  }
}

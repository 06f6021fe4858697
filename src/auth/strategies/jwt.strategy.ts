import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { AuthModuleOptions } from '../auth.options.js';
import { AUTH_OPTIONS } from '../auth.options.js';
import type { AuthUser } from '../auth-user.js';
import { PrincipalService } from '../principal.service.js';
import type { AccessTokenPayload } from '../principal.service.js';
import { TOKEN_KEYS } from '../token-keys.js';
import type { TokenKeys } from '../token-keys.js';

/**
 * Verifies the bearer token (only from the Authorization header; never a query string) with the
 * one configured algorithm, issuer and audience, then loads the user for this request.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
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
    });
  }

  validate(payload: AccessTokenPayload): Promise<AuthUser> {
    return this.principals.resolve(payload);
  }
}

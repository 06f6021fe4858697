import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

import { setAuthErrorHeaders } from '../interceptors/auth-error-headers.interceptor.js';
import { RecentAuthGuard } from '../recent-auth/recent-auth.guard.js';
import { JwtAuthGuard } from './jwt-auth.guard.js';
import { OwnershipGuard } from './ownership.guard.js';
import { RolesGuard } from './roles.guard.js';
import { ScopesGuard } from './scopes.guard.js';
import { VerifiedEmailGuard } from './verified-email.guard.js';

/**
 * The one global guard: authentication (access token or API key), then an API key's scopes, then
 * roles, then recent authentication, then ownership,
 * always in that order (a roles check must never run before the user is loaded). A refusal carries its headers (401 →
 * `WWW-Authenticate: Bearer`) whatever the host's platform and exception filter.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly jwt: JwtAuthGuard,
    private readonly roles: RolesGuard,
    private readonly ownership: OwnershipGuard,
    private readonly adapterHost: HttpAdapterHost,
    private readonly verifiedEmail: VerifiedEmailGuard,
    private readonly recentAuth: RecentAuthGuard,
    private readonly scopes: ScopesGuard,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    try {
      return (
        (await this.jwt.canActivate(context)) &&
        this.scopes.canActivate(context) &&
        this.verifiedEmail.canActivate(context) &&
        this.roles.canActivate(context) &&
        this.recentAuth.canActivate(context) &&
        (await this.ownership.canActivate(context))
      );
    } catch (error) {
      setAuthErrorHeaders(this.adapterHost, context, error);
      throw error;
    }
  }
}

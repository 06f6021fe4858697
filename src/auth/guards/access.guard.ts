import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { lastValueFrom, isObservable } from 'rxjs';
import { JwtAuthGuard } from './jwt-auth.guard.js';
import { OwnershipGuard } from './ownership.guard.js';
import { RolesGuard } from './roles.guard.js';

/**
 * The one global guard: authentication, then roles, then ownership, always in that order (a roles
 * check must never run before the user is loaded).
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly jwt: JwtAuthGuard,
    private readonly roles: RolesGuard,
    private readonly ownership: OwnershipGuard,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const authenticated = this.jwt.canActivate(context);
    const ok = isObservable(authenticated)
      ? await lastValueFrom(authenticated)
      : await authenticated;
    return ok && this.roles.canActivate(context) && (await this.ownership.canActivate(context));
  }
}

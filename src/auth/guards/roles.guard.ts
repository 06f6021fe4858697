import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';

import type { AuthRequest } from '../core/auth-user.js';
import { actingRole } from '../core/auth-user.js';
import { ROLES_KEY } from '../core/decorators/roles.decorator.js';
import type { Role } from '../core/roles.js';
import { routeMetadata } from '../core/route-metadata.js';

/** Checks `@Roles(...)` against the role of the user loaded for this request. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const roles = routeMetadata<Role[]>(this.reflector, ROLES_KEY, context);
    if (!roles || roles.length === 0) return true;
    const { user } = context.switchToHttp().getRequest<AuthRequest>();
    if (!user) throw new UnauthorizedException();
    if (!roles.includes(actingRole(user))) {
      throw new ForbiddenException(`This action requires the ${roles.join(' or ')} role`);
    }
    return true;
  }
}

import { SetMetadata } from '@nestjs/common';

import type { Role } from '../roles.js';

export const ROLES_KEY = 'guardhouse:roles';

/** Only users whose current role (loaded per request, not from the token) is listed may pass. */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator =>
  SetMetadata(ROLES_KEY, roles);

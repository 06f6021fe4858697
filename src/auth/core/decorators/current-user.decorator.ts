import { createParamDecorator, ExecutionContext } from '@nestjs/common';

import type { AuthRequest, AuthUser } from '../auth-user.js';

/** The user loaded for this request; `undefined` on an anonymous call to an optional-auth route. */
export const CurrentUser = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AuthUser | undefined =>
    context.switchToHttp().getRequest<AuthRequest>().user,
);

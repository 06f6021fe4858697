// Public API of the auth kit: what a host Nest application imports.
export { AuthModule } from './auth.module.js';
export type { AuthModuleAsyncOptions, AuthModuleOptions, JwtAlgorithm } from './auth.options.js';
export type { AuthRequest, AuthUser } from './auth-user.js';
export { Role } from './roles.js';
export { Auth, BEARER_SCHEME } from './decorators/auth.decorator.js';
export { CurrentUser } from './decorators/current-user.decorator.js';
export { OptionalAuth } from './decorators/optional-auth.decorator.js';
export { Owned, OwnedResource } from './decorators/owned.decorator.js';
export type { OwnedOptions } from './decorators/owned.decorator.js';
export { Public } from './decorators/public.decorator.js';
export { Roles } from './decorators/roles.decorator.js';
export { AccessGuard } from './guards/access.guard.js';
export { JwtAuthGuard } from './guards/jwt-auth.guard.js';
export { OwnershipGuard } from './guards/ownership.guard.js';
export { RolesGuard } from './guards/roles.guard.js';
export { OwnedResources } from './ownership/owned-resources.service.js';
export { UserLifecycle } from '../users/user-lifecycle.service.js';
export type { UserLifecycleListener } from '../users/user-lifecycle.service.js';

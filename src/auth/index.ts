// Public API of the auth kit: what a host Nest application imports.
export type {
  AdminEnsuredOutcome,
  AuditEventDetails,
  AuditEventOf,
  AuditEventType,
  AuditLogLine,
  ChangedBy,
  HostAuditEventType,
  IdentityLinkedBy,
  KitAuditEvents,
  LoginFailureReason,
  OidcFailureReason,
  SecondFactorFailureReason,
  SecondFactorMethod,
  SignupMethod,
} from './audit/audit-events.js';
export { ANONYMOUS_ACTOR, KIT_AUDIT_EVENT_TYPES, SYSTEM_ACTOR } from './audit/audit-events.js';
export type { AuditParties, AuditStats } from './audit/audit-recorder.service.js';
export { AuditRecorder, byAnonymous, byUser } from './audit/audit-recorder.service.js';
export { AuditEventResponseDto } from './audit/dto/audit-event-response.dto.js';
export { AuthModule } from './auth.module.js';
export type {
  ApiKeyOptions,
  AuditOptions,
  AuthModuleAsyncOptions,
  AuthModuleOptions,
  JwtAlgorithm,
  MailOptions,
  OidcOptions,
  SharedRateLimitCounter,
} from './auth.options.js';
export type { AuthMethod } from './core/auth-methods.js';
export type { AuthRequest, AuthUser } from './core/auth-user.js';
export type { ClientInfo } from './core/client-info.js';
export { AllowUnverified } from './core/decorators/allow-unverified.decorator.js';
export { Auth, BEARER_SCHEME } from './core/decorators/auth.decorator.js';
export { ClientIp } from './core/decorators/client-ip.decorator.js';
export { CurrentUser } from './core/decorators/current-user.decorator.js';
export { OptionalAuth } from './core/decorators/optional-auth.decorator.js';
export type {
  OwnedDocument,
  OwnedOptions,
  ReadablePredicate,
} from './core/decorators/owned.decorator.js';
export { Owned, OwnedResource } from './core/decorators/owned.decorator.js';
export { Public } from './core/decorators/public.decorator.js';
export { RecentAuth } from './core/decorators/recent-auth.decorator.js';
export { Roles } from './core/decorators/roles.decorator.js';
export { UserAgent } from './core/decorators/user-agent.decorator.js';
export { Role } from './core/roles.js';
export { AccessGuard } from './guards/access.guard.js';
export { JwtAuthGuard } from './guards/jwt-auth.guard.js';
export { OwnershipGuard } from './guards/ownership.guard.js';
export { RolesGuard } from './guards/roles.guard.js';
export { HashingQueueFullException } from './hashing-queue.js';
export { parseEncryptionKey } from './mfa/secret-box.js';
export type { SecurityNotices } from './mfa/security-notices.js';
export type { OidcProviderOptions } from './oidc/oidc-settings.js';
export { insecureIssuersAllowed, parseOidcProviders } from './oidc/oidc-settings.js';
export { OwnedResources } from './ownership/owned-resources.service.js';
export type { OwnerScopeOptions, VisibleScope } from './ownership/owner-scope.js';
export { listOwner, listVisible } from './ownership/owner-scope.js';
export type { ReservedPasswordCheck } from './password.service.js';
export { PasswordService } from './password.service.js';
export {
  admitPasswordCheck,
  AdmittedPasswordCheck,
  PasswordCheck,
  passwordCheckAdmission,
} from './password-check.decorator.js';
export type { PasswordPolicy } from './password-policy.js';
export { PASSWORD_POLICIES, passwordProblems } from './password-policy.js';
export { clientAddress, clientKey, parseClientAddress } from './throttling/client-key.js';
export { MIN_SECRET_LENGTH } from './token-keys.js';
// Building blocks the kit uses itself and shares with the host's modules.
export { Trim } from './shared/decorators/trim.decorator.js';
export {
  IsUserIdOrMe,
  resolveUserIdOrMe,
  USER_ID_OR_ME,
} from './shared/decorators/user-id-or-me.decorator.js';
export { ApiPageResponse, PageDto } from './shared/dto/paginated.dto.js';
export { pageOffset, PaginationQueryDto } from './shared/dto/pagination-query.dto.js';
export {
  DUPLICATE_KEY,
  isDuplicateKeyError,
  saveOr409,
  saveUniqueOr409,
} from './shared/duplicate-key.js';
export { paginate, paginateInMemory } from './shared/paginate.js';
export { OBJECT_ID_PATTERN, ParseObjectIdPipe } from './shared/pipes/parse-object-id.pipe.js';
// API keys (docs/api-keys.md).
export { API_KEY_PREFIX } from './api-keys/api-key-format.js';
export { API_KEY_SCHEME, Scopes } from './core/decorators/scopes.decorator.js';
export type { ApiKeyScope } from './core/scopes.js';
export { API_KEY_SCOPES } from './core/scopes.js';

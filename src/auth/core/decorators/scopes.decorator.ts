import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension, ApiSecurity } from '@nestjs/swagger';

import type { ApiKeyScope } from '../scopes.js';

export const SCOPES_KEY = 'guardhouse:scopes';

/** The OpenAPI security scheme of API keys (`Authorization: Bearer gdk_…`). */
export const API_KEY_SCHEME = 'api-key';

/**
 * Opens a route to API keys that hold one of `scopes` (read handler-first, so a method overrides
 * its class). Routes without it are closed to keys: keys get 403 there. A key never exceeds its
 * owner: `@Roles`, `@Owned` and the account checks still run against the owner as loaded now.
 * Documents the `api-key` security scheme and the scopes (`x-api-key-scopes`) in OpenAPI.
 */
export function Scopes(...scopes: ApiKeyScope[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(SCOPES_KEY, scopes),
    ApiSecurity(API_KEY_SCHEME),
    ApiExtension('x-api-key-scopes', scopes),
  );
}

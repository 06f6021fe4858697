import type { ModuleMetadata } from '@nestjs/common';

export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256';

/** Everything the auth kit needs; hosts pass it to `AuthModule.forRoot()` / `forRootAsync()`. */
export interface AuthModuleOptions {
  jwt: {
    /** Only this algorithm is accepted when verifying. Default HS256. */
    algorithm?: JwtAlgorithm;
    /** HS256 secret (at least 32 characters). */
    secret?: string;
    /** PEM keys for RS256/ES256. */
    privateKey?: string;
    publicKey?: string;
    issuer: string;
    audience: string;
    /** Access-token lifetime in seconds. Default 900 (15 min). */
    accessTtlSeconds?: number;
  };
  /** bcrypt cost, never below 10. Default 12. */
  bcryptRounds?: number;
  /** Created (or promoted) at start-up when both are set; idempotent. */
  admin?: { email?: string; password?: string; name?: string };
}

export interface AuthModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  // Nest's own signature for injection tokens and factories.
  inject?: (string | symbol | (abstract new (...args: never[]) => unknown))[];
  useFactory: (...args: never[]) => AuthModuleOptions | Promise<AuthModuleOptions>;
}

export const AUTH_OPTIONS = Symbol('AUTH_OPTIONS');

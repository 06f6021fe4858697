import { DynamicModule, Module, Provider } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import { MongooseModule } from '@nestjs/mongoose';

import { ACCESS_TOKEN_TYPE } from './access-token.js';
import { UsersModule } from './accounts/users.module.js';
import { AdminSeeder } from './admin-seeder.service.js';
import { AdminApiKeysController } from './api-keys/admin-api-keys.controller.js';
import { ApiKeyPrincipal } from './api-keys/api-key-principal.service.js';
import { ApiKeysController } from './api-keys/api-keys.controller.js';
import { ApiKeysService } from './api-keys/api-keys.service.js';
import { ApiKey, ApiKeySchema } from './api-keys/schemas/api-key.schema.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthController } from './auth.controller.js';
import type { AuthModuleAsyncOptions, AuthModuleOptions } from './auth.options.js';
import { AUTH_OPTIONS } from './auth.options.js';
import { AuthService } from './auth.service.js';
import { AccessGuard } from './guards/access.guard.js';
import { JwtAuthGuard } from './guards/jwt-auth.guard.js';
import { OwnershipGuard } from './guards/ownership.guard.js';
import { RolesGuard } from './guards/roles.guard.js';
import { ScopesGuard } from './guards/scopes.guard.js';
import { VerifiedEmailGuard } from './guards/verified-email.guard.js';
import { MailService } from './mail/mail.service.js';
import { AdminMfaController } from './mfa/admin-mfa.controller.js';
import { MfaController } from './mfa/mfa.controller.js';
import { MfaService } from './mfa/mfa.service.js';
import { MfaBudgetService } from './mfa/mfa-budget.service.js';
import {
  MfaAttempt,
  MfaAttemptSchema,
  MfaChallenge,
  MfaChallengeSchema,
  MfaFactor,
  MfaFactorSchema,
  MfaRecoveryCode,
  MfaRecoveryCodeSchema,
  MfaUsed,
  MfaUsedSchema,
} from './mfa/schemas/mfa.schema.js';
import { IdentitiesController } from './oidc/identities.controller.js';
import { OidcController } from './oidc/oidc.controller.js';
import { OidcService } from './oidc/oidc.service.js';
import { OidcClient } from './oidc/oidc-client.service.js';
import { Identity, IdentitySchema } from './oidc/schemas/identity.schema.js';
import {
  OidcLoginCode,
  OidcLoginCodeSchema,
  OidcTransaction,
  OidcTransactionSchema,
} from './oidc/schemas/oidc-transaction.schema.js';
import { OwnedResources } from './ownership/owned-resources.service.js';
import { PasskeysController } from './passkeys/passkeys.controller.js';
import { PasskeysService } from './passkeys/passkeys.service.js';
import {
  PasskeyCredential,
  PasskeyCredentialSchema,
  WebAuthnChallenge,
  WebAuthnChallengeSchema,
} from './passkeys/schemas/passkey-credential.schema.js';
import { WebAuthnChallenges } from './passkeys/webauthn-challenges.service.js';
import { PasswordService } from './password.service.js';
import { PrincipalService } from './principal.service.js';
import { RecentAuthController } from './recent-auth/recent-auth.controller.js';
import { RecentAuthGuard } from './recent-auth/recent-auth.guard.js';
import { RecentAuthService } from './recent-auth/recent-auth.service.js';
import {
  AccountToken,
  AccountTokenSchema,
  AccountTokenUse,
  AccountTokenUseSchema,
} from './recovery/account-token.schema.js';
import { AccountTokensService } from './recovery/account-tokens.service.js';
import { RecoveryController } from './recovery/recovery.controller.js';
import { RecoveryService } from './recovery/recovery.service.js';
import { RecoveryAttempt, RecoveryAttemptSchema } from './recovery/recovery-attempt.schema.js';
import { RecoveryThrottleService } from './recovery/recovery-throttle.service.js';
import { AdminSessionsController } from './sessions/admin-sessions.controller.js';
import {
  RefreshToken,
  RefreshTokenSchema,
  Session,
  SessionActivity,
  SessionActivitySchema,
  SessionAuthentication,
  SessionAuthenticationSchema,
  SessionSchema,
} from './sessions/session.schema.js';
import { SessionsController } from './sessions/sessions.controller.js';
import { SessionsService } from './sessions/sessions.service.js';
import { JwtStrategy } from './strategies/jwt.strategy.js';
import { LoginFailure, LoginFailureSchema } from './throttling/login-failure.schema.js';
import { LoginThrottleService } from './throttling/login-throttle.service.js';
import type { TokenKeys } from './token-keys.js';
import { createTokenKeys, TOKEN_KEYS } from './token-keys.js';

/**
 * The auth kit: signup/login, users and roles, JWT verification, and the global guard chain
 * (authentication → roles → ownership). Needs a Mongoose connection from the host; never imports
 * a resource module. Use `forRoot(options)` or `forRootAsync({ imports, inject, useFactory })`.
 */
/** Holds the options provider, so AuthModule can re-export it to the host. */
@Module({})
class AuthOptionsModule {}

@Module({})
export class AuthModule {
  static forRoot(options: AuthModuleOptions): DynamicModule {
    return AuthModule.build({ provide: AUTH_OPTIONS, useValue: options }, []);
  }

  static forRootAsync(options: AuthModuleAsyncOptions): DynamicModule {
    return AuthModule.build(
      { provide: AUTH_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
      options.imports ?? [],
    );
  }

  private static build(
    optionsProvider: Provider,
    imports: NonNullable<AuthModuleAsyncOptions['imports']>,
  ): DynamicModule {
    const optionsModule: DynamicModule = {
      module: AuthOptionsModule,
      imports,
      providers: [optionsProvider],
      exports: [AUTH_OPTIONS],
    };
    return {
      module: AuthModule,
      imports: [
        optionsModule,
        DiscoveryModule,
        AuditModule.register(optionsModule),
        UsersModule,
        MongooseModule.forFeature([
          { name: Session.name, schema: SessionSchema },
          { name: RefreshToken.name, schema: RefreshTokenSchema },
          { name: LoginFailure.name, schema: LoginFailureSchema },
          { name: SessionActivity.name, schema: SessionActivitySchema },
          { name: SessionAuthentication.name, schema: SessionAuthenticationSchema },
          { name: MfaFactor.name, schema: MfaFactorSchema },
          { name: MfaRecoveryCode.name, schema: MfaRecoveryCodeSchema },
          { name: MfaChallenge.name, schema: MfaChallengeSchema },
          { name: MfaUsed.name, schema: MfaUsedSchema },
          { name: MfaAttempt.name, schema: MfaAttemptSchema },
          { name: AccountToken.name, schema: AccountTokenSchema },
          { name: AccountTokenUse.name, schema: AccountTokenUseSchema },
          { name: RecoveryAttempt.name, schema: RecoveryAttemptSchema },
          { name: ApiKey.name, schema: ApiKeySchema },
          { name: Identity.name, schema: IdentitySchema },
          { name: OidcTransaction.name, schema: OidcTransactionSchema },
          { name: OidcLoginCode.name, schema: OidcLoginCodeSchema },
          { name: PasskeyCredential.name, schema: PasskeyCredentialSchema },
          { name: WebAuthnChallenge.name, schema: WebAuthnChallengeSchema },
        ]),
      ],
      controllers: [
        AuthController,
        SessionsController,
        AdminSessionsController,
        MfaController,
        AdminMfaController,
        RecoveryController,
        RecentAuthController,
        ApiKeysController,
        AdminApiKeysController,
        OidcController,
        IdentitiesController,
        PasskeysController,
      ],
      providers: [
        {
          provide: TOKEN_KEYS,
          useFactory: (options: AuthModuleOptions) => createTokenKeys(options.jwt),
          inject: [AUTH_OPTIONS],
        },
        {
          provide: JwtService,
          useFactory: (keys: TokenKeys, options: AuthModuleOptions) =>
            new JwtService({
              privateKey: keys.signKey,
              publicKey: keys.verifyKey,
              signOptions: {
                algorithm: keys.algorithm,
                issuer: options.jwt.issuer,
                audience: options.jwt.audience,
                expiresIn: options.jwt.accessTtlSeconds ?? 900,
                // RFC 9068 explicit typing: the strategy accepts no JWT without it.
                header: { alg: keys.algorithm, typ: ACCESS_TOKEN_TYPE },
                ...(keys.keyId ? { keyid: keys.keyId } : {}),
              },
              verifyOptions: {
                algorithms: [keys.algorithm],
                issuer: options.jwt.issuer,
                audience: options.jwt.audience,
              },
            }),
          inject: [TOKEN_KEYS, AUTH_OPTIONS],
        },
        PasswordService,
        SessionsService,
        LoginThrottleService,
        MfaBudgetService,
        MfaService,
        PrincipalService,
        AuthService,
        JwtStrategy,
        JwtAuthGuard,
        RolesGuard,
        OwnershipGuard,
        OwnedResources,
        AdminSeeder,
        VerifiedEmailGuard,
        MailService,
        AccountTokensService,
        RecoveryThrottleService,
        RecoveryService,
        RecentAuthGuard,
        RecentAuthService,
        ApiKeysService,
        ApiKeyPrincipal,
        ScopesGuard,
        WebAuthnChallenges,
        PasskeysService,
        AccessGuard,
        OidcClient,
        OidcService,
        { provide: APP_GUARD, useExisting: AccessGuard },
      ],
      // Exactly the providers src/auth/index.ts names: the rest is the kit's own business (the
      // AuditRecorder is exported globally by AuditModule).
      exports: [AccessGuard, JwtAuthGuard, RolesGuard, OwnershipGuard, OwnedResources],
    };
  }
}

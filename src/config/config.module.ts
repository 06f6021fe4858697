import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';

import { Env } from './env.js';

/**
 * Exposes the settings validated at bootstrap (see `validateEnv`) globally, both through a typed
 * `ConfigService<Env, true>` and as the `Env` instance itself. Validation happens before the HTTP
 * adapter is built, because the adapter needs settings too (body limit, proxy trust).
 */
@Global()
@Module({})
export class AppConfigModule {
  static forRoot(env: Env): DynamicModule {
    return {
      module: AppConfigModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          load: [() => ({ ...env })],
        }),
      ],
      providers: [{ provide: Env, useValue: env }],
      exports: [Env],
    };
  }
}

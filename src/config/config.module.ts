import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import type { Env } from './env.js';

/**
 * Exposes the settings validated at bootstrap (see `validateEnv`) through a global, typed
 * `ConfigService<Env, true>`. Validation happens before the HTTP adapter is built, because
 * the adapter itself needs settings (body limit, proxy trust).
 */
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
    };
  }
}

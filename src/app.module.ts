import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { PinoLogger } from 'nestjs-pino';
import type { DestinationStream } from 'pino';

import { AccountPageModule } from './account/account-page.module.js';
import { AuthModule } from './auth/index.js';
import { BooksModule } from './books/books.module.js';
import { BucketlistsModule } from './bucketlists/bucketlists.module.js';
import { AllExceptionsFilter } from './common/filters/all-exceptions.filter.js';
import { mongoRateLimitCounter } from './common/rate-limit/mongo-rate-limit.store.js';
import { authOptionsFromEnv } from './config/auth.config.js';
import { AppConfigModule } from './config/config.module.js';
import { Env } from './config/env.js';
import { DatabaseModule } from './database/database.module.js';
import { HealthModule } from './health/health.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MoviesModule } from './movies/movies.module.js';
import { TodosModule } from './todos/todos.module.js';

@Module({})
export class AppModule {
  /** `logDestination` receives the JSON log lines instead of standard output (tests). */
  static forRoot(env: Env, logDestination?: DestinationStream): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggingModule.forRoot({
          level: env.LOG_LEVEL,
          requestContext: env.LOG_REQUEST_CONTEXT,
          destination: logDestination,
        }),
        AppConfigModule.forRoot(env),
        DatabaseModule,
        AuthModule.forRootAsync({
          inject: [Env, PinoLogger, getConnectionToken()],
          useFactory: (settings: Env, logger: PinoLogger, connection: Connection) => {
            logger.setContext('Audit');
            // The audit line's fields at the top level of the JSON line, where shippers look.
            // The per-key API limit is counted in MongoDB, so it holds across instances.
            return authOptionsFromEnv(
              settings,
              (line) => logger.info(line, 'audit event'),
              mongoRateLimitCounter(connection),
            );
          },
        }),
        HealthModule,
        MoviesModule,
        BooksModule,
        TodosModule,
        BucketlistsModule,
        ...(env.ACCOUNT_PAGE_ENABLED ? [AccountPageModule] : []),
      ],
      providers: [{ provide: APP_FILTER, useClass: AllExceptionsFilter }],
    };
  }
}

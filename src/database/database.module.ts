import { Logger, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MongooseModule } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';

import type { Env } from '../config/env.js';
import { IndexesService } from './indexes.service.js';

@Module({
  imports: [
    MongooseModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<Env, true>) => ({
        uri: config.get('MONGODB_URI', { infer: true }),
        // Index builds on a live replica set are a deploy step (`npm run db:indexes`), not
        // something every instance starts at boot.
        autoIndex: config.get('MONGODB_AUTO_INDEX', { infer: true }),
        autoCreate: config.get('MONGODB_AUTO_INDEX', { infer: true }),
        maxPoolSize: config.get('MONGODB_POOL_SIZE', { infer: true }),
        serverSelectionTimeoutMS: config.get('MONGODB_SERVER_SELECTION_TIMEOUT_MS', {
          infer: true,
        }),
        socketTimeoutMS: config.get('MONGODB_SOCKET_TIMEOUT_MS', { infer: true }),
        // Fail fast while the database is away instead of queueing requests for 10 s.
        bufferCommands: false,
        // Operators and `$`-keys in user input must never become query operators.
        sanitizeFilter: true,
        connectionFactory: (connection: Connection) => {
          const logger = new Logger('MongoDB');
          connection.on('disconnected', () => logger.warn('disconnected'));
          connection.on('reconnected', () => logger.log('reconnected'));
          return connection;
        },
      }),
    }),
  ],
  providers: [IndexesService],
})
export class DatabaseModule {}

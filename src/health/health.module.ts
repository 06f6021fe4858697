import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';

import { Env } from '../config/env.js';
import { HealthController } from './health.controller.js';

@Module({
  imports: [
    TerminusModule.forRootAsync({
      inject: [Env],
      // On SIGTERM terminus answers 503 `shutting_down` at once and, for this long, keeps the
      // server open, so a load balancer's health check takes the instance out before it closes.
      useFactory: (env: Env) => ({
        errorLogStyle: 'json',
        gracefulShutdownTimeoutMs: env.SHUTDOWN_DRAIN_MS,
      }),
    }),
  ],
  controllers: [HealthController],
})
export class HealthModule {}

import { DynamicModule, Module, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';

import { httpLoggerOptions, linkPlatformRequest } from './http-logger.options.js';

export interface LoggingOptions {
  /** pino level; `silent` disables logging. */
  level: string;
  /** Where JSON lines go; standard output by default. Tests pass an in-memory stream. */
  destination?: DestinationStream;
}

/**
 * Structured JSON logs through nestjs-pino: a line per request and Nest's own logs, all with the
 * request id when made while serving a request. `main.ts` and the tests install the same logger
 * through `createApp` (`bufferLogs` + `app.useLogger`).
 *
 * nestjs-pino keeps one root logger per process: the first application created in a process
 * decides level and destination for every later one.
 */
@Module({})
export class LoggingModule implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  static forRoot({ level, destination }: LoggingOptions): DynamicModule {
    const options = httpLoggerOptions(level);
    return {
      module: LoggingModule,
      imports: [LoggerModule.forRoot({ pinoHttp: destination ? [options, destination] : options })],
    };
  }

  onModuleInit(): void {
    const instance: unknown = this.adapterHost.httpAdapter?.getInstance();
    if (!isFastify(instance)) return;
    instance.addHook('onRequest', (request, _reply, done) => {
      linkPlatformRequest(request.raw, request);
      done();
    });
  }
}

function isFastify(instance: unknown): instance is FastifyInstance {
  return typeof (instance as Partial<FastifyInstance> | undefined)?.addHook === 'function';
}

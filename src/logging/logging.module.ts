import { DynamicModule, Module, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { pino } from 'pino';

import { httpLoggerOptions, linkPlatformRequest } from './http-logger.options.js';

export interface LoggingOptions {
  /** pino level; `silent` disables logging. */
  level: string;
  /**
   * Where JSON lines go. By default standard output, written asynchronously: a line is handed to
   * the kernel right away when no write is in flight, and lines logged meanwhile go out together
   * in the next write, so a busy server makes one system call per batch instead of one per
   * request. pino flushes what is left when the process exits. Tests pass an in-memory stream.
   */
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
    const output = destination ?? pino.destination({ dest: 1, sync: false });
    return {
      module: LoggingModule,
      imports: [LoggerModule.forRoot({ pinoHttp: [options, output] })],
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

import { DynamicModule, Inject, Module, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { LoggerModule, PinoLogger } from 'nestjs-pino';
import type { DestinationStream, Logger } from 'pino';
import { pino } from 'pino';

import { loggerOptions } from './logger.options.js';
import { registerRequestLog } from './request-log.js';

export interface LoggingOptions {
  /** pino level; `silent` disables logging. */
  level: string;
  /** Tag what is logged while serving a request with its `reqId` (costs an async context). */
  requestContext?: boolean;
  /**
   * Where JSON lines go. By default standard output, written asynchronously: a line is handed to
   * the kernel right away when no write is in flight, and lines logged meanwhile go out together
   * in the next write, so a busy server makes one system call per batch instead of one per
   * request. pino flushes what is left when the process exits. Tests pass an in-memory stream.
   */
  destination?: DestinationStream;
}

/** What the request log needs: the root logger, and whether to enter a context per request. */
interface RequestLogSettings {
  root: Logger;
  requestContext: boolean;
}
const REQUEST_LOG = Symbol('REQUEST_LOG');

/**
 * Structured JSON logs: a line per request (see request-log.ts) and Nest's own logs through
 * nestjs-pino, tagged with the request id when made while serving a request if `requestContext`
 * is on. `main.ts` and the tests install the same logger through `createApp` (`bufferLogs` +
 * `app.useLogger`).
 *
 * Request lines need the Fastify adapter (the app's); on another adapter only Nest's own logs are
 * written.
 *
 * nestjs-pino keeps one root logger per process: the first application created in a process
 * decides level and destination of Nest's logs for every later one.
 */
@Module({})
export class LoggingModule implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(REQUEST_LOG) private readonly settings: RequestLogSettings,
    private readonly context: PinoLogger,
  ) {}

  static forRoot({ level, requestContext = false, destination }: LoggingOptions): DynamicModule {
    const root = pino(
      loggerOptions(level),
      destination ?? pino.destination({ dest: 1, sync: false }),
    );
    return {
      module: LoggingModule,
      // nestjs-pino's HTTP middleware is not installed (`forRoutes: []`): Fastify hooks write the
      // request lines, at a fraction of the cost of pino-http behind Nest's middleware layer.
      imports: [LoggerModule.forRoot({ pinoHttp: { logger: root }, forRoutes: [] })],
      providers: [{ provide: REQUEST_LOG, useValue: { root, requestContext } }],
    };
  }

  onModuleInit(): void {
    const instance: unknown = this.adapterHost.httpAdapter?.getInstance();
    if (isFastify(instance)) {
      const { root, requestContext } = this.settings;
      registerRequestLog(instance, root, requestContext ? this.context : undefined);
    }
  }
}

function isFastify(instance: unknown): instance is FastifyInstance {
  return typeof (instance as Partial<FastifyInstance> | undefined)?.addHook === 'function';
}

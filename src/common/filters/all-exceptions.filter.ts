import { STATUS_CODES } from 'node:http';

import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import mongoose from 'mongoose';

import { DUPLICATE_KEY } from '../../auth/index.js';

const { MongoError } = mongoose.mongo;

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string | string[];
}

const body = (statusCode: number, message: string | string[]): ErrorBody => ({
  statusCode,
  error: STATUS_CODES[statusCode] ?? 'Error',
  message,
});

/** Driver errors that mean "the database is not reachable right now", not "the request is bad". */
const UNAVAILABLE_ERRORS = new Set([
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'PoolClearedError',
  'MongoPoolClearedError',
]);

/**
 * The one place errors become responses, in Nest's `{ statusCode, error, message }` shape.
 * Client mistakes that surface from the database (duplicate keys, casts, rejected keys) become
 * 4xx; an unreachable database is a 503; anything else is a 500 whose details are logged, never sent.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ExceptionsFilter');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const ctx = host.switchToHttp();
    const { status, payload, headers } = this.toResponse(exception);
    if (status >= 500) {
      const request = ctx.getRequest<{ method?: string; url?: string; id?: string }>();
      const detail =
        exception instanceof Error ? (exception.stack ?? exception.message) : String(exception);
      this.logger.error(
        `${request.method} ${request.url} (request ${request.id ?? '-'}) -> ${status}: ${detail}`,
      );
    }
    const response: unknown = ctx.getResponse();
    for (const [name, value] of Object.entries(headers)) {
      httpAdapter.setHeader(response, name, value);
    }
    if (status === 401) {
      // The kit's step-up refusal carries its own challenge (RFC 9470).
      const { wwwAuthenticate } = exception as { wwwAuthenticate?: unknown };
      const challenge = typeof wwwAuthenticate === 'string' ? wwwAuthenticate : 'Bearer';
      httpAdapter.setHeader(response, 'WWW-Authenticate', challenge);
    }
    httpAdapter.reply(response, payload, status);
  }

  private toResponse(exception: unknown): {
    status: number;
    payload: object;
    headers: Record<string, string>;
  } {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const res = exception.getResponse();
      // `new UnauthorizedException()` answers `{ message, statusCode }` only: Nest-shaped bodies
      // get their `error` too (the OpenAPI Error schema). Other shapes (terminus) stay as they are.
      const payload =
        typeof res === 'string'
          ? body(status, res)
          : 'statusCode' in res && !('error' in res)
            ? { error: STATUS_CODES[status] ?? 'Error', ...res }
            : res;
      return { status, payload, headers: {} };
    }
    if (exception instanceof mongoose.Error.CastError) {
      return this.plain(HttpStatus.BAD_REQUEST, `Invalid value for ${exception.path}`);
    }
    if (exception instanceof mongoose.Error.ValidationError) {
      return this.plain(
        HttpStatus.BAD_REQUEST,
        Object.values(exception.errors).map((error) => error.message),
      );
    }
    if (exception instanceof MongoError || exception instanceof mongoose.Error) {
      if (exception instanceof MongoError && exception.code === DUPLICATE_KEY) {
        return this.plain(
          HttpStatus.CONFLICT,
          'A resource with the same unique value already exists',
        );
      }
      if (
        UNAVAILABLE_ERRORS.has(exception.name) ||
        /buffering timed out|not connected/i.test(exception.message)
      ) {
        return {
          ...this.plain(
            HttpStatus.SERVICE_UNAVAILABLE,
            'The database is unavailable, try again shortly',
          ),
          headers: { 'Retry-After': '5' },
        };
      }
    }
    const fastifyStatus = this.fastifyClientErrorStatus(exception);
    if (fastifyStatus !== undefined) {
      return this.plain(fastifyStatus, (exception as Error).message);
    }
    return this.plain(HttpStatus.INTERNAL_SERVER_ERROR, 'Internal server error');
  }

  /** Fastify's own 4xx errors (bad JSON, body too large, bad content type) carry a statusCode. */
  private fastifyClientErrorStatus(exception: unknown): number | undefined {
    if (!(exception instanceof Error)) return undefined;
    const { statusCode, code } = exception as Error & { statusCode?: unknown; code?: unknown };
    if (
      typeof code === 'string' &&
      code.startsWith('FST_') &&
      typeof statusCode === 'number' &&
      statusCode >= 400 &&
      statusCode < 500
    ) {
      return statusCode;
    }
    return undefined;
  }

  private plain(status: number, message: string | string[]) {
    return { status, payload: body(status, message), headers: {} as Record<string, string> };
  }
}

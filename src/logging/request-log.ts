import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PinoLogger } from 'nestjs-pino';
import type { Logger } from 'pino';

/** The fields of the one line logged per request. Bodies, queries and headers are never logged. */
export interface RequestLine {
  reqId: string;
  method: string;
  url: string;
  statusCode?: number;
  /** Milliseconds from routing to the end of the response (0.1 ms resolution). */
  responseTime?: number;
  userId?: string;
  /** Set when the client went away before the response was complete. */
  aborted?: true;
}

/** Requests whose line is written although their response did not finish normally. */
const unfinished = new WeakSet<FastifyRequest>();

function userIdOf(request: FastifyRequest): string | undefined {
  const user: unknown = (request as FastifyRequest & { user?: unknown }).user;
  if (typeof user !== 'object' || user === null || !('id' in user)) return undefined;
  return typeof user.id === 'string' ? user.id : undefined;
}

/** Path without the query string: queries may carry personal data and are not needed to trace. */
function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** The request line of a finished response, or of a request whose connection closed first. */
export function requestLine(request: FastifyRequest, reply?: FastifyReply): RequestLine {
  return {
    reqId: request.id,
    method: request.method,
    url: pathOf(request.url),
    statusCode: reply?.statusCode,
    responseTime: reply ? Math.round(reply.elapsedTime * 10) / 10 : undefined,
    userId: userIdOf(request),
    aborted: reply ? undefined : true,
  };
}

/**
 * One JSON line per request (`{ reqId, method, url, statusCode, responseTime, userId }`), at
 * `error` for 5xx and `info` otherwise, written by Fastify hooks: no Nest middleware, no per-request
 * logger, nothing serialized but the line.
 *
 * With a `context`, everything logged while a request is served (guards, services) carries its
 * `reqId` too: the request runs in a logging context of nestjs-pino, entered by the first hook.
 * That context is an AsyncLocalStorage, which on Node 20 runs a hook for every promise the
 * process creates (Nest creates dozens per request): about 28 µs of an authenticated request's
 * 155 µs here (measured), hence off unless LOG_REQUEST_CONTEXT asks for it.
 */
export function registerRequestLog(
  fastify: FastifyInstance,
  root: Logger,
  context?: PinoLogger,
): void {
  // The logger's `log` formatter searches every logged object for secret field names at any
  // depth (redact.ts). A request line has only the fields of RequestLine, none of them secret and
  // all of them primitives, so the search is left out: 2% of GET /users/me in a CPU profile.
  const lines = root.child({}, { formatters: { log: (line) => line } });
  // A connection closed before the response finished (the client left, the server dropped it at
  // shutdown) runs no onResponse hook, whether or not the body was read: Fastify's own
  // onRequestAbort only covers requests still being received.
  fastify.addHook('onRequest', (request, reply, done) => {
    // `on`, not `once`: a response closes once, and `once` would wrap the listener and remove it
    // again on every request.
    reply.raw.on('close', () => {
      if (reply.raw.writableFinished || unfinished.has(request)) return;
      unfinished.add(request);
      lines.info(requestLine(request), 'request aborted');
    });
    if (context) context.runInContext(() => done(), { bindings: { reqId: request.id } });
    else done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    if (!unfinished.has(request)) {
      // Ended by an error of the response stream: its close must not log it a second time.
      if (!reply.raw.writableFinished) unfinished.add(request);
      const line = requestLine(request, reply);
      // A 5xx carries no error here: the exception filter logs the cause with the same reqId.
      if (reply.statusCode >= 500) lines.error(line, 'request failed');
      else lines.info(line, 'request completed');
    }
    done();
  });
}

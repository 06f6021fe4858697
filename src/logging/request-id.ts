import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** What a request id from a client may look like (a UUID, a trace id); anything else is replaced. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * The id logged with every line of a request and echoed in `x-request-id`: the client's own
 * when it looks like an id, so traces can be followed across services, else a new UUID. An
 * arbitrary client string would be written into every log line: a huge one bloats the logs, and
 * quotes or separators could make it pass for another request's id or forge fields in tools that
 * parse lines loosely.
 */
export function requestIdFrom(headers: IncomingHttpHeaders): string {
  const sent = headers['x-request-id'];
  return typeof sent === 'string' && REQUEST_ID.test(sent) ? sent : randomUUID();
}

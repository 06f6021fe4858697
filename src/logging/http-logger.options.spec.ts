import type { IncomingMessage, ServerResponse } from 'node:http';

import { httpLoggerOptions, linkPlatformRequest } from './http-logger.options.js';

function requestLineFor(platformRequest: object | undefined): Record<string, unknown> {
  const raw = { method: 'PATCH', url: '/api/users/me?x=1' } as IncomingMessage;
  if (platformRequest) linkPlatformRequest(raw, platformRequest);
  const res = { statusCode: 200, writableFinished: true } as ServerResponse;
  const line: unknown = httpLoggerOptions('info').customSuccessObject?.(raw, res, {
    responseTime: 4,
  });
  return line as Record<string, unknown>;
}

describe('request log line', () => {
  it('names the user the guard put on the platform request, and drops the query string', () => {
    expect(requestLineFor({ user: { id: 'u-1', password: 'hash' } })).toEqual({
      method: 'PATCH',
      url: '/api/users/me',
      statusCode: 200,
      responseTime: 4,
      userId: 'u-1',
      aborted: undefined,
    });
  });

  it('leaves the user out when there is none or its id is not a string', () => {
    expect(requestLineFor(undefined).userId).toBeUndefined();
    expect(requestLineFor({ user: null }).userId).toBeUndefined();
    expect(requestLineFor({ user: { id: 42 } }).userId).toBeUndefined();
  });
});

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PinoLogger } from 'nestjs-pino';
import type { Logger } from 'pino';

import { censorSecrets, SECRET_FIELDS } from './redact.js';
import { registerRequestLog, requestLine } from './request-log.js';

function requestWith(user: unknown): FastifyRequest {
  return {
    id: 'req-1',
    method: 'PATCH',
    url: '/api/users/me?x=1',
    user,
  } as unknown as FastifyRequest;
}

const finished = { statusCode: 200, elapsedTime: 4.26 } as FastifyReply;

describe('request log line', () => {
  it('names the user the guard put on the request, and drops the query string', () => {
    expect(requestLine(requestWith({ id: 'u-1', password: 'hash' }), finished)).toEqual({
      reqId: 'req-1',
      method: 'PATCH',
      url: '/api/users/me',
      statusCode: 200,
      responseTime: 4.3,
      userId: 'u-1',
      aborted: undefined,
    });
  });

  it('leaves the user out when there is none or its id is not a string', () => {
    expect(requestLine(requestWith(undefined), finished).userId).toBeUndefined();
    expect(requestLine(requestWith(null), finished).userId).toBeUndefined();
    expect(requestLine(requestWith({ id: 42 }), finished).userId).toBeUndefined();
  });

  it('has no field that the logger would hide (its lines skip the search for secrets)', () => {
    const fields = [
      ...Object.keys(requestLine(requestWith({ id: 'u-1' }), finished)),
      ...Object.keys(requestLine(requestWith({ id: 'u-1' }))),
    ];
    const secret = new Set(SECRET_FIELDS.map((name) => name.toLowerCase()));
    expect(fields.filter((name) => secret.has(name.toLowerCase()))).toEqual([]);
    const line = requestLine(requestWith({ id: 'u-1', password: 'hash' }), finished);
    expect(censorSecrets(line)).toBe(line);
  });

  it('marks a request its client abandoned, with no status or duration', () => {
    expect(requestLine(requestWith(undefined))).toMatchObject({
      url: '/api/users/me',
      statusCode: undefined,
      responseTime: undefined,
      aborted: true,
    });
  });
});

describe('request log hooks', () => {
  it('enters a logging context per request only when asked to (LOG_REQUEST_CONTEXT)', () => {
    const entered: string[] = [];
    const fastify = {
      addHook: (name: string, hook: (...args: unknown[]) => void) => {
        if (name === 'onRequest') {
          const reply = { raw: { on: () => undefined } };
          hook({ id: 'req-1' }, reply, () => entered.push('done'));
        }
      },
    } as unknown as Parameters<typeof registerRequestLog>[0];
    const context = {
      runInContext: (fn: () => void) => {
        entered.push('context');
        fn();
      },
    } as unknown as PinoLogger;
    const root = { child: () => ({}) } as unknown as Logger;
    registerRequestLog(fastify, root);
    expect(entered).toEqual(['done']);
    entered.length = 0;
    registerRequestLog(fastify, root, context);
    expect(entered).toEqual(['context', 'done']);
  });
});

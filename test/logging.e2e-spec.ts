import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';

import { createApp } from '../src/bootstrap.js';
import { testDatabaseUri } from './support/app.js';
import { enforceContract } from './support/contract.js';

const SECRETS = {
  bearer: 'secret-token-value',
  cookie: 'secret-cookie-value',
  password: 'secret-password-value',
  refreshToken: 'secret-refresh-value',
  accessToken: 'secret-access-value',
  newPassword: 'secret-new-password-value',
};

type LogLine = Record<string, unknown>;

describe('structured JSON logs', () => {
  const output: string[] = [];
  let app: NestFastifyApplication;

  const lines = (): LogLine[] =>
    output
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as LogLine);
  const requestLines = (): LogLine[] => lines().filter((line) => 'responseTime' in line);

  beforeAll(async () => {
    app = await createApp({
      env: {
        MONGODB_URI: testDatabaseUri('logging'),
        LOG_LEVEL: 'info',
        LOG_REQUEST_CONTEXT: 'true',
      },
      logDestination: { write: (chunk: string) => void output.push(chunk) },
    });
    // Stands in for the auth guard, which puts the loaded user on the request.
    app
      .getHttpAdapter()
      .getInstance()
      .addHook('onRequest', (req, _reply, done) => {
        const id = req.headers['x-test-user'];
        if (typeof id === 'string') Object.assign(req, { user: { id, email: 'a@b.c' } });
        done();
      })
      // Stands in for application code logging while it serves a request.
      .addHook('preHandler', (req, _reply, done) => {
        if (req.headers['x-test-log']) new Logger('Handler').log('serving the request');
        done();
      })
      // Stands in for a slow handler, so that a client can give up before the answer.
      .addHook('preHandler', (req, _reply, done) => {
        if (req.headers['x-test-slow']) setTimeout(done, 400);
        else done();
      });
    await enforceContract(app);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  afterAll(async () => {
    await app.close();
  });

  it('writes one JSON line per request with id, method, path, status and duration', async () => {
    await request(app.getHttpServer())
      .get('/api/health?probe=1')
      .set('x-request-id', 'trace-abc-123')
      .expect(200);

    const line = requestLines().find((l) => l.reqId === 'trace-abc-123');
    expect(line).toMatchObject({
      level: 'info',
      msg: 'request completed',
      method: 'GET',
      url: '/api/health',
      statusCode: 200,
    });
    expect(typeof line?.responseTime).toBe('number');
    expect(line).not.toHaveProperty('userId');
  });

  it('gives each request a generated UUID when the client sends no id', async () => {
    await request(app.getHttpServer()).get('/api/nothing-here').expect(404);
    const line = requestLines().find((l) => l.url === '/api/nothing-here');
    expect(line).toMatchObject({ method: 'GET', statusCode: 404 });
    expect(line?.reqId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('uses and echoes a client-sent x-request-id that looks like an id', async () => {
    const res = await request(app.getHttpServer())
      .get('/api/health')
      .set('x-request-id', 'abc-123')
      .expect(200);
    expect(res.headers['x-request-id']).toBe('abc-123');
    expect(requestLines().find((l) => l.reqId === 'abc-123')).toMatchObject({
      url: '/api/health',
      statusCode: 200,
    });
  });

  it.each([
    ['300 characters', 'a'.repeat(300)],
    ['a space', 'abc 123'],
    ['a forged log line', '1","level":"fatal","msg":"forged'],
    ['control characters', 'abc\t123'],
  ])('replaces a client-sent x-request-id with %s by a new UUID', async (_what, sent) => {
    const res = await request(app.getHttpServer())
      .get('/api/health?replaced=1')
      .set('x-request-id', sent)
      .expect(200);
    const id = res.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(requestLines().find((l) => l.reqId === id)).toMatchObject({ url: '/api/health' });
    expect(requestLines().some((l) => l.reqId === sent)).toBe(false);
    expect(lines().some((l) => l.msg === 'forged')).toBe(false);
  });

  it.each([
    ['before its body was read', 'GET', '/api/health', undefined],
    ['after its body was read', 'POST', '/api/auth/login', { email: 'a@b.c', password: 'x' }],
  ])(
    'writes one line, marked aborted, for a request whose client went away %s',
    async (_when, method, path, body) => {
      const id = `trace-aborted-${method}`;
      const sent = request(app.getHttpServer())
        [method === 'GET' ? 'get' : 'post'](path)
        .set('x-request-id', id)
        .set('x-test-slow', '1')
        .timeout(100);
      await expect(body ? sent.send(body) : sent).rejects.toThrow(/timeout/i);
      // The handler finishes after the client left: still one line for the request.
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(lines().filter((l) => l.reqId === id)).toEqual([
        expect.objectContaining({ msg: 'request aborted', aborted: true, url: path, method }),
      ]);
    },
  );

  it('names the authenticated user', async () => {
    await request(app.getHttpServer())
      .get('/api/health')
      .set('x-request-id', 'trace-user')
      .set('x-test-user', 'user-42')
      .expect(200);
    expect(requestLines().find((l) => l.reqId === 'trace-user')).toMatchObject({
      userId: 'user-42',
    });
  });

  it('tags what the application logs while serving a request with the request id (LOG_REQUEST_CONTEXT)', async () => {
    await request(app.getHttpServer())
      .get('/api/health')
      .set('x-request-id', 'trace-app-log')
      .set('x-test-log', '1')
      .expect(200);
    expect(lines().find((l) => l.msg === 'serving the request')).toMatchObject({
      level: 'info',
      context: 'Handler',
      reqId: 'trace-app-log',
    });
  });

  it('never writes tokens, passwords, cookies or request bodies', async () => {
    await request(app.getHttpServer())
      .post('/api/health')
      .set('x-request-id', 'trace-secrets')
      .set('Authorization', `Bearer ${SECRETS.bearer}`)
      .set('Cookie', `session=${SECRETS.cookie}`)
      .send({
        email: 'someone@example.com',
        password: SECRETS.password,
        refreshToken: SECRETS.refreshToken,
      })
      .expect(404);
    // Application code that logs an object holding secrets, at any depth.
    new Logger('LoggingTest').warn('login attempt', {
      request: { headers: { authorization: `Bearer ${SECRETS.bearer}` } },
      body: {
        tokens: [{ accessToken: SECRETS.accessToken }],
        change: { newPassword: SECRETS.newPassword },
      },
    });

    const all = output.join('');
    expect(requestLines().find((l) => l.reqId === 'trace-secrets')).toMatchObject({
      method: 'POST',
      statusCode: 404,
    });
    const appLine = lines().find((l) => l.msg === 'login attempt');
    expect(appLine).toMatchObject({
      level: 'warn',
      context: 'LoggingTest',
      params: {
        request: { headers: { authorization: '[REDACTED]' } },
        body: { tokens: [{ accessToken: '[REDACTED]' }], change: { newPassword: '[REDACTED]' } },
      },
    });
    for (const secret of Object.values(SECRETS)) expect(all).not.toContain(secret);
    expect(all).not.toContain('someone@example.com');
  });

  it("routes Nest's own logs through the same JSON logger", () => {
    expect(lines().some((l) => l.context === 'RoutesResolver' && l.level === 'info')).toBe(true);
  });
});

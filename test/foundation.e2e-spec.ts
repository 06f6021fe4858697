import request from 'supertest';

import { createApp } from '../src/bootstrap.js';
import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';

describe('HTTP foundation', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ label: 'foundation' });
  });

  afterAll(async () => {
    await t.close();
  });

  it('reports healthy while the database answers', async () => {
    const res = await request(t.app.getHttpServer()).get('/api/health').expect(200);
    expect(res.body).toMatchObject({ status: 'ok', info: { mongodb: { status: 'up' } } });
  });

  it('answers an unknown route with a JSON 404 in Nest error shape', async () => {
    const res = await request(t.app.getHttpServer()).get('/api/nothing-here').expect(404);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
  });

  it('serves routes only under the /api prefix', async () => {
    await request(t.app.getHttpServer()).get('/health').expect(404);
  });

  it('sends helmet security headers', async () => {
    const res = await request(t.app.getHttpServer()).get('/api/health');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it.each([['/api/health'], ['/api/movies'], ['/api/nothing-here'], ['/api/docs-json']])(
    'sends a strict Content-Security-Policy on %s (nothing inline, nothing loaded)',
    async (path) => {
      const res = await request(t.app.getHttpServer()).get(path);
      const csp = res.headers['content-security-policy'];
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
    },
  );

  it('relaxes the Content-Security-Policy on Swagger UI only as far as it needs', async () => {
    const page = await request(t.app.getHttpServer()).get('/api/docs').redirects(1).expect(200);
    const csp = page.headers['content-security-policy'];
    expect(csp).toContain("default-src 'self'");
    expect(csp).toMatch(/style-src 'self' 'unsafe-inline'/);
    expect(csp).toMatch(/img-src 'self' data:/);
    expect(csp).not.toContain('unsafe-eval');
  });

  it('serves the OpenAPI document with a bearer security scheme', async () => {
    const res = await request(t.app.getHttpServer()).get('/api/docs-json').expect(200);
    expect(res.body.openapi).toMatch(/^3\./);
    expect(res.body.components.securitySchemes.bearer).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    expect(Object.keys(res.body.paths)).toContain('/api/health');
  });

  it('serves Swagger UI at /api/docs', async () => {
    const res = await request(t.app.getHttpServer()).get('/api/docs').redirects(1).expect(200);
    expect(res.text).toContain('swagger-ui');
  });
});

describe('configuration', () => {
  it('refuses to start with an invalid setting and names it', async () => {
    await expect(
      createApp({ env: { MONGODB_URI: 'mongodb://127.0.0.1:1/x', PORT: 'not-a-port' } }),
    ).rejects.toThrow(/PORT/);
  });

  it('refuses a database URI that is not a MongoDB URI', async () => {
    await expect(createApp({ env: { MONGODB_URI: 'postgres://localhost/db' } })).rejects.toThrow(
      /MONGODB_URI/,
    );
  });
});

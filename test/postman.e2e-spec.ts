import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

import request from 'supertest';

import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';
import { registeredRoutes } from './support/routes.js';

const run = promisify(execFile);
const COLLECTION = join(process.cwd(), 'postman', 'guardhouse.postman_collection.json');

interface PostmanItem {
  name: string;
  request: { method: string; url: { raw: string } };
}

/** `{{baseUrl}}/api/movies/{{movieId}}` → `/api/movies/{id}` (an `…Id` variable is the id). */
const pathOf = (item: PostmanItem): string =>
  item.request.url.raw
    .replace('{{baseUrl}}', '')
    .replace(/\{\{(\w+)\}\}/g, (_m, v: string) => `{${v.endsWith('Id') ? 'id' : v}}`);

/**
 * The Postman collection stays in sync with the API (only declared routes, and some requests for
 * every resource), and passes against a live server.
 */
describe('Postman collection', () => {
  let t: TestApp;
  let baseUrl: string;
  const collection = JSON.parse(readFileSync(COLLECTION, 'utf8')) as { item: PostmanItem[] };

  beforeAll(async () => {
    t = await createTestApp({ label: 'postman' });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
  });

  afterAll(() => t.close());

  it('only calls routes that the OpenAPI document declares', async () => {
    const doc = (await request(t.app.getHttpServer()).get('/api/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    for (const item of collection.item) {
      const { name, request: req } = item;
      const path = pathOf(item);
      expect({ name, declared: Boolean(doc.paths[path]?.[req.method.toLowerCase()]) }).toEqual({
        name,
        declared: true,
      });
    }
  });

  it('has requests for every resource (the base path of each @Owned route)', () => {
    const resources = new Set(
      registeredRoutes(t.app).flatMap(({ path, owned }) =>
        owned ? [path.slice(0, path.indexOf(`/:${owned.param}`))] : [],
      ),
    );
    expect(resources.size).toBeGreaterThan(0);
    const requested = collection.item.map(pathOf);
    const missing = [...resources].filter(
      (base) => !requested.some((path) => path === base || path.startsWith(`${base}/`)),
    );
    expect({ resourcesWithoutRequests: missing }).toEqual({ resourcesWithoutRequests: [] });
  });

  it('runs green under newman against the live API', async () => {
    mkdirSync('reports', { recursive: true });
    const report = join('reports', 'newman.json');
    await run(
      join('node_modules', '.bin', 'newman'),
      [
        'run',
        COLLECTION,
        '--env-var',
        `baseUrl=${baseUrl}`,
        '-r',
        'json',
        '--reporter-json-export',
        report,
      ],
      { timeout: 60_000 },
    ).catch((error: Error & { stdout?: string }) => {
      throw new Error(`newman failed: ${error.message}\n${error.stdout ?? ''}`);
    });
    const stats = (
      JSON.parse(readFileSync(report, 'utf8')) as {
        run: {
          stats: { assertions: { total: number; failed: number }; requests: { total: number } };
        };
      }
    ).run.stats;
    expect(stats.requests.total).toBe(collection.item.length);
    expect(stats.assertions.failed).toBe(0);
    expect(stats.assertions.total).toBeGreaterThanOrEqual(collection.item.length);
  }, 90_000);
});

import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

import request from 'supertest';

import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';

const run = promisify(execFile);
const COLLECTION = join(process.cwd(), 'postman', 'guardhouse.postman_collection.json');

interface PostmanItem {
  name: string;
  request: { method: string; url: { raw: string } };
}

/** The Postman collection stays in sync with the API, and passes against a live server. */
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
    for (const { name, request: req } of collection.item) {
      const path = req.url.raw
        .replace('{{baseUrl}}', '')
        .replace(/\{\{(\w+)\}\}/g, (_m, v: string) => `{${v === 'movieId' ? 'id' : v}}`);
      expect({ name, declared: Boolean(doc.paths[path]?.[req.method.toLowerCase()]) }).toEqual({
        name,
        declared: true,
      });
    }
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

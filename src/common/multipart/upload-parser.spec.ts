import type { FastifyMultipartOptions } from '@fastify/multipart';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyPluginCallback } from 'fastify';
import Fastify from 'fastify';

import { DISK_MODE_REFUSED, uploadParser } from './upload-parser.js';

const BOUNDARY = 'guardhouse-test-boundary';

function multipartBody(): string {
  return [
    `--${BOUNDARY}`,
    'Content-Disposition: form-data; name="title"',
    '',
    'Dune',
    `--${BOUNDARY}`,
    'Content-Disposition: form-data; name="cover"; filename="c.bin"',
    'Content-Type: application/octet-stream',
    '',
    'abcdef',
    `--${BOUNDARY}--`,
    '',
  ].join('\r\n');
}

/** An app with the plugin, a JSON route, a route reading parts and one trying disk mode. */
async function appWith(
  plugin: FastifyPluginCallback<FastifyMultipartOptions>,
): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(plugin, { limits: { files: 1 } });
  app.get('/json', () => ({ ok: true }));
  app.post('/parts', async (request) => {
    const seen: string[] = [];
    for await (const part of request.parts()) {
      seen.push(
        part.type === 'file'
          ? `${part.fieldname}:${(await part.toBuffer()).length}`
          : `${part.fieldname}=${String(part.value)}`,
      );
    }
    return { seen };
  });
  app.post('/disk', async (request) => {
    await request.saveRequestFiles();
    return { saved: true };
  });
  await app.ready();
  return app;
}

/** The request and response hooks of every route, one entry per route and kind. */
const hooksOf = (app: FastifyInstance): string[] =>
  app.printRoutes({ includeHooks: true }).match(/\((onRequest|onResponse)\) .*/g) ?? [];

const postMultipart = (app: FastifyInstance, url: string) =>
  app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    payload: multipartBody(),
  });

describe('uploadParser', () => {
  it('adds no request hook to any route, where @fastify/multipart alone adds two', async () => {
    const plain = await appWith(multipart);
    const ours = await appWith(uploadParser);
    try {
      // Exactly one of each on every route: a plugin version that adds another hook (which this
      // parser would drop too) fails here and has to be looked at.
      const plainHooks = hooksOf(plain);
      expect(plainHooks.length).toBeGreaterThan(0);
      expect(new Set(plainHooks)).toEqual(
        new Set(['(onRequest) ["anonymous()"]', '(onResponse) ["anonymous()"]']),
      );
      expect(hooksOf(ours)).toEqual([]);
    } finally {
      await Promise.all([plain.close(), ours.close()]);
    }
  });

  it('parses a multipart body with request.parts() on routes of the root instance', async () => {
    const app = await appWith(uploadParser);
    try {
      const response = await postMultipart(app, '/parts');
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ seen: ['title=Dune', 'cover:6'] });
      expect((await app.inject({ method: 'GET', url: '/json' })).json()).toEqual({ ok: true });
    } finally {
      await app.close();
    }
  });

  it('refuses disk mode, whose temporary files only the left-out hooks would clean', async () => {
    const app = await appWith(uploadParser);
    try {
      const response = await postMultipart(app, '/disk');
      expect(response.statusCode).toBe(500);
      expect(response.json()).toMatchObject({ message: DISK_MODE_REFUSED });
    } finally {
      await app.close();
    }
  });
});

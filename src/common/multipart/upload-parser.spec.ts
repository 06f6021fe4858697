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

const hooksOf = (app: FastifyInstance): string[] =>
  app.printRoutes({ includeHooks: true }).match(/\((onRequest|onResponse)\)/g) ?? [];

describe('uploadParser', () => {
  it('adds no request hook to any route, where @fastify/multipart alone adds two', async () => {
    const plain = await appWith(multipart);
    const ours = await appWith(uploadParser);
    try {
      expect(hooksOf(plain).length).toBeGreaterThan(0);
      expect(hooksOf(ours)).toEqual([]);
    } finally {
      await Promise.all([plain.close(), ours.close()]);
    }
  });

  it('parses a multipart body with request.parts() on routes of the root instance', async () => {
    const app = await appWith(uploadParser);
    try {
      const response = await app.inject({
        method: 'POST',
        url: '/parts',
        headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
        payload: multipartBody(),
      });
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
      const response = await app.inject({
        method: 'POST',
        url: '/disk',
        headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
        payload: multipartBody(),
      });
      expect(response.statusCode).toBe(500);
      expect(response.json()).toMatchObject({ message: DISK_MODE_REFUSED });
    } finally {
      await app.close();
    }
  });
});

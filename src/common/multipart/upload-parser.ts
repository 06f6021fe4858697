import type { FastifyMultipartOptions } from '@fastify/multipart';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';

/** The hooks @fastify/multipart adds to every route, for its disk mode only. */
const DISK_MODE_HOOKS: ReadonlySet<string> = new Set(['onRequest', 'onResponse']);

/** Disk mode's entry point: its temporary files would be cleaned by the hooks left out. */
const DISK_MODE_DECORATOR = 'saveRequestFiles';

export const DISK_MODE_REFUSED =
  'request.saveRequestFiles() is not available: read uploads with request.parts() ' +
  '(the upload interceptors of @nestjs/platform-fastify/multipart do)';

/**
 * `@fastify/multipart` as the upload interceptors of `@nestjs/platform-fastify/multipart` use it
 * (the `multipart/form-data` parser and `request.parts()`), without the two hooks it adds to every
 * route of the application for its disk mode. Those hooks only clean the temporary files of
 * `request.saveRequestFiles()`, which nothing here calls (covers are read into memory within
 * UPLOAD_LIMITS), and they are async: on every request of every route, JSON reads included,
 * Fastify then waits for two promises (about a quarter of the CPU of `GET /api/users/me`,
 * measured: docs/benchmark.md). `saveRequestFiles` is replaced by one that refuses, so no
 * temporary file can be left behind. A fastify-plugin (root instance, where Nest's routes are;
 * Fastify 5 checked). Pass `multipart: false` to the FastifyAdapter: otherwise the upload
 * interceptors have it register the whole plugin, hooks included. The unit test pins the hooks
 * this leaves out, so an upgrade of @fastify/multipart that adds one fails it.
 */
const withoutDiskModeHooks: FastifyPluginCallback<FastifyMultipartOptions> = (
  fastify,
  options,
  done,
) => {
  const withoutDiskMode: FastifyInstance = new Proxy(fastify, {
    get(target, key) {
      if (key === 'addHook') {
        return (name: string, ...rest: unknown[]) =>
          DISK_MODE_HOOKS.has(name)
            ? withoutDiskMode
            : (target.addHook as (...args: unknown[]) => FastifyInstance)(name, ...rest);
      }
      if (key === 'decorateRequest') {
        return (name: string | symbol, ...rest: unknown[]) =>
          name === DISK_MODE_DECORATOR
            ? target.decorateRequest(name, refuseDiskMode)
            : (target.decorateRequest as (...args: unknown[]) => FastifyInstance)(name, ...rest);
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  multipart(withoutDiskMode, options, done);
};
export const uploadParser = fp(withoutDiskModeHooks, { name: 'upload-parser', fastify: '5.x' });

function refuseDiskMode(): Promise<never> {
  return Promise.reject(new Error(DISK_MODE_REFUSED));
}

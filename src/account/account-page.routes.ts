import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';

/** Where the page is served: outside the API's `/api` prefix, so not an API route. */
export const ACCOUNT_PAGE_PATH = '/account';

interface PageFile {
  /** File in `page/` (next to this module in src/ and in dist/). */
  file: string;
  route: string;
  contentType: string;
  cacheControl: string;
}

/**
 * The page and its two assets. `account.js` is the esbuild bundle of `page/account.ts` with
 * @simplewebauthn/browser (scripts/account-page.mjs; `npm run build` and the test setup make it).
 */
const FILES: PageFile[] = [
  {
    file: 'index.html',
    route: ACCOUNT_PAGE_PATH,
    contentType: 'text/html; charset=utf-8',
    cacheControl: 'no-store',
  },
  {
    file: 'account.js',
    route: `${ACCOUNT_PAGE_PATH}/account.js`,
    contentType: 'text/javascript; charset=utf-8',
    cacheControl: 'no-cache',
  },
  {
    file: 'account.css',
    route: `${ACCOUNT_PAGE_PATH}/account.css`,
    contentType: 'text/css; charset=utf-8',
    cacheControl: 'no-cache',
  },
];

/** The routes the page answers on (bootstrap gives them the page's CSP, tests skip the API contract). */
export const ACCOUNT_PAGE_ROUTES: readonly string[] = FILES.map(({ route }) => route);

export const isAccountPageRoute = (route: string | undefined): boolean =>
  route !== undefined && ACCOUNT_PAGE_ROUTES.includes(route);

/**
 * Serves the static account page as plain Fastify routes: no guard, pipe or interceptor of the
 * API applies (the page holds no data; it calls the API like any other client), and Nest's
 * route scan, hence the OpenAPI document and the access matrix, never sees them. The files are
 * read once at start-up; when they are missing (the bundle was not built) the page is not served
 * and a warning says how to build it.
 */
@Injectable()
export class AccountPageRoutes implements OnModuleInit {
  private readonly logger = new Logger('AccountPage');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const contents = readPageFiles();
    if (typeof contents === 'string') {
      this.logger.warn(
        `${contents} is missing: /account is not served (\`npm run build\` or ` +
          '`node scripts/account-page.mjs` builds the page)',
      );
      return;
    }
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    FILES.forEach(({ route, contentType, cacheControl }, index) => {
      const body = contents[index];
      fastify.get(route, (_request, reply) => {
        void reply.type(contentType).header('cache-control', cacheControl).send(body);
      });
    });
  }
}

/** Every file's bytes, in FILES order; or the path of the first missing one. */
function readPageFiles(): Buffer[] | string {
  const contents: Buffer[] = [];
  for (const { file } of FILES) {
    const path = fileURLToPath(new URL(`./page/${file}`, import.meta.url));
    try {
      contents.push(readFileSync(path));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return path;
      throw error;
    }
  }
  return contents;
}

import type { IncomingMessage, ServerResponse } from 'node:http';

import rateLimit from '@fastify/rate-limit';
import type { LoggerService, LogLevel } from '@nestjs/common';
import { HttpException, HttpStatus, Logger, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getConnectionToken } from '@nestjs/mongoose';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { HelmetOptions } from 'helmet';
import helmet from 'helmet';
import type { Connection } from 'mongoose';
import { NativeLogger } from 'nestjs-pino';
import type { DestinationStream } from 'pino';

import { isAccountPageRoute } from './account/account-page.routes.js';
import { AppModule } from './app.module.js';
import {
  admitPasswordCheck,
  API_KEY_SCHEME,
  clientAddress,
  clientKey,
  HashingQueueFullException,
  passwordCheckAdmission,
  PasswordService,
} from './auth/index.js';
import { UPLOAD_LIMITS } from './common/multipart/upload-limits.js';
import { uploadParser } from './common/multipart/upload-parser.js';
import { declareSharedAnswers } from './common/openapi/shared-answers.js';
import { BodyDepthPipe } from './common/pipes/body-depth.pipe.js';
import { mongoRateLimitStore } from './common/rate-limit/mongo-rate-limit.store.js';
import type { Env } from './config/env.js';
import { validateEnv } from './config/env.js';
import { requestIdFrom } from './logging/request-id.js';
import metadata from './metadata.js';

export interface CreateAppOptions {
  /** Settings that override the process environment (tests use this). */
  env?: Record<string, string | undefined>;
  /** Where the JSON log lines go instead of standard output (tests capture them in memory). */
  logDestination?: DestinationStream;
  /** Sends Nest's own logs to this logger instead of the JSON log (request lines stay JSON). */
  logger?: LoggerService | LogLevel[] | false;
}

export const API_PREFIX = 'api';
export const DOCS_PATH = `${API_PREFIX}/docs`;
/** Public keys from the configuration: no database, no rate limit. */
const JWKS_PATH = `/${API_PREFIX}/auth/jwks.json`;

/** The per-IP limit covers the auth routes (login, signup, refresh…) except the key set. */
function isRateLimited(route: string): boolean {
  return route.startsWith(`/${API_PREFIX}/auth/`) && route !== JWKS_PATH;
}

/**
 * Builds the application exactly as `main.ts` serves it: validated settings, Fastify adapter,
 * helmet, global prefix, validation, Swagger and shutdown hooks. Tests call this too, so they
 * exercise what users run. Throws (naming the setting) when the configuration is invalid.
 */
export async function createApp(options: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  const env = validateEnv({ ...process.env, ...options.env });
  const adapter = new FastifyAdapter({
    bodyLimit: env.BODY_LIMIT_BYTES,
    trustProxy: env.TRUST_PROXY,
    // The client's x-request-id only when it looks like an id (requestIdFrom), never verbatim.
    requestIdHeader: false,
    genReqId: (request: IncomingMessage) => requestIdFrom(request.headers),
    // The upload interceptors would have the adapter register the whole plugin, disk-mode hooks
    // included; configureApp registers uploadParser instead.
    multipart: false,
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(env, options.logDestination),
    adapter,
    // Nest's start-up logs wait for the JSON logger, which only exists once the module is built.
    { abortOnError: false, bufferLogs: true },
  );
  app.useLogger(options.logger ?? app.get(NativeLogger));
  if (env.JWT_SECRET_GENERATED) {
    new Logger('Config').warn(
      'JWT_SECRET is not set: using a random secret, so tokens stop working when the process restarts',
    );
  }
  if (env.MFA_ENCRYPTION_KEY_GENERATED) {
    new Logger('Config').warn(
      'MFA_ENCRYPTION_KEY is not set: using a random key, so enrolled second factors stop ' +
        'working when the process restarts',
    );
  }
  if (env.TRUST_PROXY === true) {
    new Logger('Config').warn(
      'TRUST_PROXY=true trusts every X-Forwarded-For hop: clients can choose their own address ' +
        'and escape per-IP limits. List the proxies instead (refused in production).',
    );
  }
  await configureApp(app, env);
  return app;
}

async function configureApp(app: NestFastifyApplication, env: Env): Promise<void> {
  app.setGlobalPrefix(API_PREFIX);
  addSecurityHeaders(app.getHttpAdapter().getInstance());
  refusePasswordChecksWithoutRoom(app.getHttpAdapter().getInstance(), app.get(PasswordService));
  // General per-IP limit on the auth routes (login failures are also limited per account in
  // MongoDB by the auth kit). @nestjs/throttler 6 is CommonJS requiring the ESM-only Nest 12,
  // which jest cannot load on Node 20, so the Fastify plugin does this job.
  // Other routes get no rate-limit hook at all (the allow list below then only guards the
  // not-found handler): deciding per request cost every authenticated read a client key.
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRoute', (route) => {
      if (!isRateLimited(route.url)) route.config = { ...route.config, rateLimit: false };
    });
  await app.register(rateLimit, {
    global: true,
    max: env.AUTH_RATE_LIMIT,
    timeWindow: env.AUTH_RATE_LIMIT_TTL_SECONDS * 1000,
    // The address normalized as the kit's @ClientIp() does (a port dropped; a forwarded value
    // that is no address counts as the connecting one); an IPv6 client by its /64, as the login
    // limits count it.
    keyGenerator: (request) => clientKey(clientAddress(request.ip, request.socket.remoteAddress)),
    // Counted in MongoDB, so the limit holds across every instance on the database.
    store: mongoRateLimitStore(app.get<Connection>(getConnectionToken())),
    // The store knows the exact count only over the limit: an admitted request gets no
    // X-RateLimit-* headers (a refused one gets them with Retry-After).
    addHeadersOnExceeding: {
      'x-ratelimit-limit': false,
      'x-ratelimit-remaining': false,
      'x-ratelimit-reset': false,
    },
    // The matched route, not the raw URL: `/api/%61uth/login` reaches the login route too.
    // A preflight (OPTIONS) is not an auth attempt: without CORS it is a plain 404.
    allowList: (request) =>
      request.method === 'OPTIONS' || !isRateLimited(request.routeOptions.url ?? request.url),
    // Thrown into Nest's exception filter, so it must be an HttpException (Retry-After is set
    // by the plugin before it throws).
    errorResponseBuilder: (_request, context) =>
      new HttpException(
        `Too many requests; retry in ${context.after}`,
        HttpStatus.TOO_MANY_REQUESTS,
      ),
  });
  // Parsed only by the routes with an upload interceptor (books covers); the limits are a ceiling
  // for every multipart request, and a file over `fileSize` becomes a 413 there. The plugin
  // without its disk-mode hooks, which would run on every request (see uploadParser).
  await app.register(uploadParser, { limits: { ...UPLOAD_LIMITS } });
  // Without CORS_ORIGINS no cross-origin access is allowed, and no CORS hook runs per request
  // (a preflight then gets the API's 404 like any unknown route).
  if (env.CORS_ORIGINS.length > 0) {
    app.enableCors({
      origin: env.CORS_ORIGINS,
      // @fastify/cors 11 allows only GET, HEAD and POST by default.
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      credentials: false,
    });
  }
  app.useGlobalPipes(
    new BodyDepthPipe(),
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      forbidUnknownValues: true,
    }),
  );
  // SIGTERM (orchestrators) and SIGINT (Ctrl-C) close the app: Fastify stops accepting, lets
  // in-flight requests finish, then MongoDB disconnects; the process then exits with code 0.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  closeConnectionsOnceIdleWhileDraining(app.getHttpAdapter().getInstance());
  if (env.SWAGGER_ENABLED) {
    await setupSwagger(app);
  }
}

/**
 * A request to a password route (login, signup, …) that the hashing queue could not take in time
 * is refused with 503 + Retry-After here, before the per-IP limit counts it in the database: under
 * a login storm a refusal then costs no database round trip, and the database serves the logins
 * let in. Login and signup take their place in the queue here (admitPasswordCheck), so exactly
 * the requests the cores can hash in time get through, and one whose client leaves while it
 * waits is dropped unrun. Added to those routes only, as they are registered (other routes pay
 * nothing per request), ahead of their other request hooks: the rate limit's comes after.
 */
function refusePasswordChecksWithoutRoom(fastify: FastifyInstance, passwords: PasswordService) {
  fastify.addHook('onRoute', (route) => {
    const admission = passwordCheckAdmission(route.config);
    if (admission === undefined) return;
    const door: onRequestHookHandler = (request, reply, done) => {
      try {
        if (admission === 'admit') admitPasswordCheck(passwords, request.raw, reply.raw);
        else passwords.assertHashingCapacity();
        done();
      } catch (error) {
        if (!(error instanceof HashingQueueFullException)) throw error;
        reply.header('retry-after', String(error.retryAfterSeconds));
        done(error);
      }
    };
    const existing = route.onRequest;
    route.onRequest = [door, ...(existing === undefined ? [] : [existing].flat())];
  });
}

/** The API serves JSON only: nothing may be loaded, run, framed or submitted from its answers. */
const STRICT_CSP = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'none'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'none'"],
  },
};

/** Swagger UI (HTML, scripts, styles, inline SVG images) on top of helmet's default policy. */
const DOCS_CSP = {
  directives: {
    defaultSrc: ["'self'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
    imgSrc: ["'self'", 'data:'],
    scriptSrc: ["'self'"],
  },
};

/**
 * The account page (/account): its own script, styles and the TOTP QR code (a data: URL) only;
 * it talks to this API alone, and no string ever reaches an HTML sink (Trusted Types).
 */
const ACCOUNT_PAGE_CSP = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'self'"],
    requireTrustedTypesFor: ["'script'"],
    trustedTypes: ["'none'"],
  },
};

const isDocsRoute = (route: string | undefined): boolean =>
  route === `/${DOCS_PATH}` || (route?.startsWith(`/${DOCS_PATH}/`) ?? false);

/**
 * Helmet's headers, with the CSP relaxations Swagger UI and the account page need on their own
 * pages only (the matched route decides, so an encoded path gets the policy of the route it
 * reaches). No policy
 * depends on the request, so helmet runs once per policy at start-up and each request gets the
 * recorded headers in one call (helmet per request set 11 headers one by one on Node's response,
 * and @fastify/helmet would build its configuration again on every request). The request id is
 * echoed so a client can quote it.
 */
function addSecurityHeaders(fastify: FastifyInstance): void {
  const strict = helmetHeaders({ contentSecurityPolicy: STRICT_CSP });
  const docs = helmetHeaders({ contentSecurityPolicy: DOCS_CSP });
  const accountPage = helmetHeaders({ contentSecurityPolicy: ACCOUNT_PAGE_CSP });
  fastify.addHook('onRequest', (request, reply, done) => {
    const route = request.routeOptions.url;
    reply.headers(isDocsRoute(route) ? docs : isAccountPageRoute(route) ? accountPage : strict);
    reply.header('x-request-id', request.id);
    done();
  });
}

/** The headers helmet sets with these options, recorded from one run of its middleware. */
function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string) => void (headers[name.toLowerCase()] = value),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  let ran = false;
  helmet(options)(
    {} as IncomingMessage,
    recorder as unknown as ServerResponse,
    (error?: unknown) => {
      if (error instanceof Error) throw error;
      ran = true;
    },
  );
  if (!ran) throw new Error('helmet did not finish synchronously');
  return headers;
}

/**
 * Node closes idle keep-alive connections once, when the server starts closing. A connection
 * whose request was still in flight then stays open after its response until the keep-alive
 * timeout (72 s) and holds the shutdown: close each one as soon as it goes idle.
 */
function closeConnectionsOnceIdleWhileDraining(fastify: FastifyInstance): void {
  let draining = false;
  fastify.addHook('preClose', (done) => {
    draining = true;
    done();
  });
  fastify.addHook('onResponse', (_request, _reply, done) => {
    if (draining) setImmediate(() => fastify.server.closeIdleConnections());
    done();
  });
}

/**
 * The OpenAPI document without a server or a database (`npm run openapi`): Nest's preview mode
 * scans modules and controllers but instantiates no provider, so nothing connects to MongoDB.
 * Settings come from the environment as for `createApp`; `MONGODB_URI` may be missing. It turns
 * Nest's own logs off, process-wide: call it in a process of its own.
 */
export async function generateOpenApiDocument(): Promise<OpenAPIObject> {
  const env = validateEnv({ MONGODB_URI: 'mongodb://127.0.0.1/unused', ...process.env });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(env),
    new FastifyAdapter(),
    { preview: true, abortOnError: false, logger: false },
  );
  try {
    app.setGlobalPrefix(API_PREFIX);
    return await buildOpenApiDocument(app);
  } finally {
    await app.close();
  }
}

export async function buildOpenApiDocument(app: NestFastifyApplication): Promise<OpenAPIObject> {
  await SwaggerModule.loadPluginMetadata(metadata);
  const config = new DocumentBuilder()
    .setTitle('Guardhouse')
    .setDescription(
      'Authentication (signup, login, JWT access tokens, rotating refresh tokens) and authorization ' +
        '(roles, ownership) for REST APIs, with movies, books, todos and bucket lists.',
    )
    .setVersion('0.1.0')
    .addServer('/')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'bearer')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'API key',
        description:
          'An API key (`gdk_…`, POST /api/auth/api-keys). Only routes that list a scope the key ' +
          'holds (`x-api-key-scopes`) accept it.',
      },
      API_KEY_SCHEME,
    )
    .build();
  const document = SwaggerModule.createDocument(app, config);
  // Protected routes declare bearer security through @Auth()/@OptionalAuth(); every other
  // operation is public (@Public()) and says so explicitly.
  for (const item of Object.values(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const operation = item[method];
      if (operation && !operation.security) operation.security = [];
    }
  }
  declareSharedAnswers(document, {
    rateLimited: (path) => isRateLimited(path),
    databaseFree: (path) => path === JWKS_PATH,
    apiKeyScheme: API_KEY_SCHEME,
  });
  return document;
}

async function setupSwagger(app: NestFastifyApplication): Promise<void> {
  const document = await buildOpenApiDocument(app);
  SwaggerModule.setup(DOCS_PATH, app, document, {
    jsonDocumentUrl: `${DOCS_PATH}-json`,
    // Not kept in the browser's localStorage: a pasted token or 90-day API key goes with the tab.
    swaggerOptions: { persistAuthorization: false },
  });
}

import type { OpenAPIObject, SchemaObject } from '@nestjs/swagger';

export const ERROR_SCHEMA_NAME = 'Error';

/** The body of every error answer (AllExceptionsFilter, SPEC §3). */
export const ERROR_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer', example: 400 },
    error: { type: 'string', example: 'Bad Request' },
    message: {
      description: 'What went wrong; a list for validation errors',
      oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
      example: ['email must be an email'],
    },
  },
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/** Fastify parses a body sent with any of these methods, whatever the route declares. */
const BODY_METHODS = new Set<string>(['put', 'post', 'delete', 'patch']);

type Operation = NonNullable<OpenAPIObject['paths'][string]['get']>;

const INPUT_LIST = new Intl.ListFormat('en', { type: 'disjunction' });

/** What a request to this operation can get wrong, for the 400 description. */
function inputsOf(operation: Operation, carriesBody: boolean): string[] {
  const places = new Set(
    (operation.parameters ?? []).map((parameter) => ('in' in parameter ? parameter.in : 'ref')),
  );
  return [
    ...(places.has('path') ? ['path parameters'] : []),
    ...(places.has('query') ? ['query parameters'] : []),
    ...(carriesBody ? ['body'] : []),
  ];
}

export interface SharedAnswersOptions {
  /** Whether the per-IP rate limit applies to this route (OpenAPI path, e.g. `/api/auth/login`). */
  rateLimited(path: string): boolean;
  /** Whether this route never reads the database (so it cannot answer 503 for it). */
  databaseFree(path: string): boolean;
  /** The security scheme of API keys: operations accepting it can answer 429 (per-key limit). */
  apiKeyScheme?: string;
}

/**
 * Declares, once for every operation they apply to, the answers that come from the platform
 * rather than from a handler, and gives every 4xx/5xx answer declared without a body the named
 * Error schema:
 * - 400 wherever the route takes input: a path or query parameter (ValidationPipe,
 *   ParseObjectIdPipe) or a body;
 * - 413/415 on every method that carries a body: Fastify parses any body sent to it (malformed
 *   JSON, over BODY_LIMIT_BYTES, unsupported content type), even on routes that expect none;
 * - 401 and 403 on every operation with a security requirement: the global guard refuses a
 *   missing, invalid or expired token, and a disabled account, before any handler runs;
 * - 429 on the rate-limited routes, and on routes that accept API keys (per-key limit, failed
 *   key attempts per IP);
 * - 503 wherever the database is read (every authenticated request loads its user and session).
 * Decorators on a route still win: these only fill in what it does not declare, so a route
 * declares only the answers that are its own (404, 409, a narrower 403, ...).
 */
export function declareSharedAnswers(document: OpenAPIObject, options: SharedAnswersOptions): void {
  document.components ??= {};
  document.components.schemas ??= {};
  document.components.schemas[ERROR_SCHEMA_NAME] = ERROR_SCHEMA;
  const errorBody = {
    'application/json': { schema: { $ref: `#/components/schemas/${ERROR_SCHEMA_NAME}` } },
  };
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const responses = operation.responses;
      const declare = (status: number, description: string) => {
        responses[status] ??= { description };
      };
      const inputs = inputsOf(operation, BODY_METHODS.has(method));
      if (inputs.length > 0) declare(400, `Malformed or invalid ${INPUT_LIST.format(inputs)}`);
      if (BODY_METHODS.has(method)) {
        declare(413, 'Body over the size limit');
        declare(415, 'Unsupported body content type');
      }
      if ((operation.security ?? []).some((requirement) => Object.keys(requirement).length > 0)) {
        declare(401, 'Missing, invalid or expired access token');
        declare(403, 'Account disabled');
      }
      const security = operation.security ?? [];
      const acceptsKeys =
        options.apiKeyScheme !== undefined &&
        security.some((requirement) => (options.apiKeyScheme ?? '') in requirement);
      if (options.rateLimited(path) || acceptsKeys) {
        declare(429, 'Too many requests (see Retry-After)');
      }
      if (!options.databaseFree(path))
        declare(503, 'The database is unavailable (see Retry-After)');
      for (const [status, response] of Object.entries(responses)) {
        if (Number(status) >= 400 && response && 'description' in response && !response.content) {
          response.content = errorBody;
        }
      }
    }
  }
}

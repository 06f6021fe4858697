import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormatsModule from 'ajv-formats';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { isAccountPageRoute } from '../../src/account/account-page.routes.js';
import { buildOpenApiDocument, DOCS_PATH } from '../../src/bootstrap.js';

/**
 * The OpenAPI document as the e2e suite's oracle: every response a test receives from an app of
 * createTestApp is checked against the document that same app publishes (status declared for the
 * operation, content type declared, JSON body valid against its schema). Violations are recorded
 * here and fail the test that caused them (test/support/contract-setup.ts), wherever the request
 * was sent from.
 */
export interface ContractViolation {
  method: string;
  /** The matched route as Fastify knows it (`/api/movies/:id`), or the raw URL when none matched. */
  route: string;
  status: number;
  problem: string;
}

const violations: ContractViolation[] = [];

/** Returns the violations recorded since the last call and forgets them. */
export function takeContractViolations(): ContractViolation[] {
  return violations.splice(0);
}

export function formatViolation(v: ContractViolation): string {
  return `${v.method} ${v.route} -> ${v.status}: ${v.problem}`;
}

type Schema = Record<string, unknown>;
type Payload = string | Buffer | null | undefined | { pipe?: unknown };

interface MediaType {
  schema?: Schema;
}
interface ResponseObject {
  content?: Record<string, MediaType>;
}
interface Operation {
  responses?: Record<string, ResponseObject>;
}

// ajv-formats is CommonJS with `exports.default`: under native ESM the default import is the
// module object on some loaders and the function on others.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2019) => void;

const ERROR_SCHEMA_REF = '#/components/schemas/Error';
const JSON_MEDIA = /^application\/(.+\+)?json$/;

/** One app's document, with a compiled validator per (operation, status, media type). */
export class Contract {
  private readonly ajv = new Ajv2019({ strict: false, allErrors: true });
  private readonly validators = new Map<string, ValidateFunction>();

  /**
   * `closed` (default): bodies must carry exactly the declared fields (see closeObjects);
   * `false` validates with the schemas exactly as published.
   */
  constructor(
    readonly document: OpenAPIObject,
    private readonly options: { closed?: boolean } = {},
  ) {
    addFormats(this.ajv);
  }

  /** Checks one response; returns the problem, or undefined when it is what the document says. */
  check(
    method: string,
    routeUrl: string | undefined,
    status: number,
    contentType: string | undefined,
    payload: Payload,
  ): string | undefined {
    // CORS preflights are a protocol answer, not an operation of the API.
    if (method === 'OPTIONS') return undefined;
    if (routeUrl === undefined) return this.checkUnmatched(status, contentType, payload);
    if (routeUrl === `/${DOCS_PATH}` || routeUrl.startsWith(`/${DOCS_PATH}`)) return undefined;
    // The account page's three static files (exact routes outside /api) are no API operation.
    if (isAccountPageRoute(routeUrl)) return undefined;
    const path = routeUrl.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    // HEAD is the GET operation without a body (Fastify answers it for every GET route).
    const head = method === 'HEAD';
    const operationMethod = head ? 'get' : method.toLowerCase();
    const item = this.document.paths[path] as Record<string, Operation> | undefined;
    const operation = item?.[operationMethod];
    if (!operation) return `route is not in the OpenAPI document (${operationMethod} ${path})`;
    const responses = operation.responses ?? {};
    const declared =
      responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
    if (!declared) {
      return `status ${status} is not declared (declared: ${Object.keys(responses).join(', ')})`;
    }
    const key = `${operationMethod} ${path} ${status}`;
    return this.checkBody(key, declared, contentType, head ? undefined : payload);
  }

  /**
   * A request that matched no route has no operation to declare its answer in. It must still be
   * a 4xx in the API's error shape (SPEC §3), never a 2xx, a 5xx or an HTML page.
   */
  private checkUnmatched(
    status: number,
    contentType: string | undefined,
    payload: Payload,
  ): string | undefined {
    if (status < 400 || status >= 500) return `no route matched, but the answer is not a 4xx`;
    return this.checkBody(
      'unmatched',
      { content: { 'application/json': { schema: { $ref: ERROR_SCHEMA_REF } } } },
      contentType,
      payload,
    );
  }

  private checkBody(
    key: string,
    declared: ResponseObject,
    contentType: string | undefined,
    payload: Payload,
  ): string | undefined {
    const body = bodyText(payload);
    const content = declared.content ?? {};
    const media = Object.keys(content);
    if (media.length === 0) {
      return body === '' ? undefined : `a body was sent, but this answer declares none`;
    }
    const type = contentType?.split(';')[0].trim().toLowerCase();
    if (body === '' && type === undefined) {
      return `no body, but this answer declares ${media.join(', ')}`;
    }
    if (type === undefined || !media.includes(type)) {
      return `content type ${type ?? '(none)'} is not declared (declared: ${media.join(', ')})`;
    }
    const schema = content[type].schema;
    // Binary answers (the WebP cover) are checked for status and content type only.
    if (!schema || !JSON_MEDIA.test(type) || body === undefined) return undefined;
    let data: unknown;
    try {
      data = JSON.parse(body);
    } catch {
      return `declared ${type}, but the body is not JSON: ${body.slice(0, 80)}`;
    }
    const validate = this.validator(`${key} ${type}`, schema);
    if (validate(data)) return undefined;
    const problem = `body does not match the schema: ${describeErrors(validate.errors)}`;
    return `${problem}; body: ${body.slice(0, 300)}${undeclaredFieldsHint(validate.errors)}`;
  }

  private validator(key: string, schema: Schema): ValidateFunction {
    let validate = this.validators.get(key);
    if (!validate) {
      const resolved = this.resolve(schema, []);
      validate = this.ajv.compile(
        this.options.closed === false ? resolved : closeObjects(resolved),
      );
      this.validators.set(key, validate);
    }
    return validate;
  }

  /** A copy of `schema` with every local `$ref` replaced by (a copy of) what it points to. */
  private resolve(schema: unknown, seen: string[]): Schema {
    if (Array.isArray(schema)) return schema.map((s) => this.resolve(s, seen)) as unknown as Schema;
    if (schema === null || typeof schema !== 'object') return schema as Schema;
    const ref = (schema as Schema).$ref;
    if (typeof ref === 'string') {
      if (seen.includes(ref)) throw new Error(`recursive schema ${ref} is not supported`);
      return this.resolve(this.pointer(ref), [...seen, ref]);
    }
    return Object.fromEntries(
      Object.entries(schema).map(([name, value]) => [name, this.resolve(value, seen)]),
    );
  }

  private pointer(ref: string): unknown {
    if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported: ${ref}`);
    let node: unknown = this.document;
    for (const part of ref.slice(2).split('/')) {
      const name = part.replace(/~1/g, '/').replace(/~0/g, '~');
      node = (node as Record<string, unknown> | undefined)?.[name];
    }
    if (node === undefined) throw new Error(`unresolved $ref ${ref}`);
    return node;
  }
}

/**
 * Responses must carry exactly the declared fields: an object schema that says nothing about
 * extra properties is closed here (a leaked `passwordHash` or `__v` fails). Members of an
 * `allOf` stay open and the object holding the `allOf` is closed instead, so that
 * `unevaluatedProperties` sees the fields of every member.
 */
function closeObjects(schema: Schema, inAllOf = false): Schema {
  if (Array.isArray(schema) || schema === null || typeof schema !== 'object') return schema;
  const out: Schema = {};
  for (const [name, value] of Object.entries(schema)) {
    if (name === 'properties' || name === 'patternProperties') {
      out[name] = Object.fromEntries(
        Object.entries(value as Record<string, Schema>).map(([p, s]) => [p, closeObjects(s)]),
      );
    } else if (name === 'allOf') {
      out[name] = (value as Schema[]).map((s) => closeObjects(s, true));
    } else if (name === 'oneOf' || name === 'anyOf') {
      out[name] = (value as Schema[]).map((s) => closeObjects(s, inAllOf));
    } else if (name === 'items' || name === 'additionalProperties' || name === 'not') {
      out[name] = typeof value === 'object' ? closeObjects(value as Schema) : value;
    } else {
      out[name] = value;
    }
  }
  const objectLike = 'properties' in schema || 'allOf' in schema;
  if (
    objectLike &&
    !inAllOf &&
    schema.additionalProperties === undefined &&
    schema.unevaluatedProperties === undefined
  ) {
    out.unevaluatedProperties = false;
  }
  return out;
}

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .slice(0, 5)
    .map((e) => {
      const extra =
        e.keyword === 'unevaluatedProperties' || e.keyword === 'additionalProperties'
          ? ` (${JSON.stringify(e.params)})`
          : '';
      return `${e.instancePath || '/'} ${e.message ?? e.keyword}${extra}`;
    })
    .join('; ');
}

/**
 * Fields the schema does not declare are most often fields the DTO declares but src/metadata.ts
 * (the Swagger plugin's output, which the document is built from under ts-jest) does not know yet.
 */
export const STALE_METADATA_HINT =
  'if the response DTO declares these fields, src/metadata.ts is stale: run `npm run swagger:metadata`';

function undeclaredFieldsHint(errors: ErrorObject[] | null | undefined): string {
  const undeclared = (errors ?? []).some(
    (e) => e.keyword === 'unevaluatedProperties' || e.keyword === 'additionalProperties',
  );
  return undeclared ? ` (${STALE_METADATA_HINT})` : '';
}

/** The body as text; undefined for a stream (not inspected), '' for no body. */
function bodyText(payload: Payload): string | undefined {
  if (payload === null || payload === undefined) return '';
  if (typeof payload === 'string') return payload;
  if (Buffer.isBuffer(payload)) return payload.length === 0 ? '' : payload.toString('utf8');
  return undefined;
}

/**
 * Checks every response of `app` against the document it publishes. Call it after createApp and
 * before `init()` (Fastify takes no hooks once ready).
 */
export async function enforceContract(app: NestFastifyApplication): Promise<Contract> {
  const contract = new Contract(await buildOpenApiDocument(app));
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook(
    'onSend',
    (request: FastifyRequest, reply: FastifyReply, payload: Payload, done) => {
      // An answer to a client that closed its connection reaches no one (a login dropped from the
      // hashing queue, logged as 499): there is nothing a client could check.
      if (request.raw.socket.destroyed) {
        done(null, payload);
        return;
      }
      const route = request.routeOptions.url;
      const status = reply.statusCode;
      let problem: string | undefined;
      try {
        const contentType = reply.getHeader('content-type');
        problem = contract.check(
          request.method,
          route,
          status,
          typeof contentType === 'string' ? contentType : undefined,
          payload,
        );
      } catch (error) {
        problem = `the check itself failed: ${(error as Error).message}`;
      }
      if (problem) {
        violations.push({ method: request.method, route: route ?? request.url, status, problem });
      }
      done(null, payload);
    },
  );
  return contract;
}

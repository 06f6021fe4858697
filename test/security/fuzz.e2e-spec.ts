import type { OpenAPIObject } from '@nestjs/swagger';
import fc from 'fast-check';
import request from 'supertest';

import { buildOpenApiDocument } from '../../src/bootstrap.js';
import type { TestApp } from '../support/app.js';
import { createTestApp } from '../support/app.js';
import { formatViolation, takeContractViolations } from '../support/contract.js';
import { changedCollections, settled, snapshot, watchedCollections } from '../support/db.js';
import type { Fixtures } from '../support/fixtures.js';
import { coverOf, fixtures } from '../support/fixtures.js';
import { blackPng } from '../support/images.js';
import type { TestUser } from '../support/users.js';
import { login } from '../support/users.js';

/**
 * Property-based: whatever a client sends to any route of the OpenAPI document (hostile JSON
 * bodies, query strings, path ids; anonymous, as a user, as an admin), the answer is one the
 * document declares (the response contract of test/support/contract.ts), never a 5xx, and a
 * refused request writes nothing. Deterministic: FUZZ_SEED (default below) reproduces a run;
 * fast-check prints the seed and the shrunk counterexample on failure.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_128);
const RUNS_PER_OPERATION = Number(process.env.FUZZ_RUNS ?? 30);

// Failed logins and failed recovery tokens are counted on purpose (throttling), whatever the answer.
const COUNTED_WHEN_REFUSED = ['login_failures', 'recovery_attempts'];

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
type Method = (typeof METHODS)[number];

interface PropertySchema {
  type?: string;
  format?: string;
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  items?: PropertySchema;
}

interface BodySchema {
  properties?: Record<string, PropertySchema>;
  required?: string[];
}

interface Operation {
  method: Method;
  path: string;
  /** The JSON body schema, when the operation declares one. */
  jsonBody: BodySchema | undefined;
  bodyFields: string[];
  queryFields: string[];
}

type Identity = 'anonymous' | 'user' | 'admin';

interface FuzzRequest {
  identity: Identity;
  ids: string[];
  query: string;
  body: { contentType: string | undefined; text: string } | undefined;
}

/** Every operation of the document, with the field names its body and query declare. */
function operationsOf(document: OpenAPIObject): Operation[] {
  const schemas = document.components?.schemas ?? {};
  const resolve = (schema: unknown): BodySchema | undefined => {
    const ref = (schema as { $ref?: string } | undefined)?.$ref;
    return (ref ? schemas[ref.split('/').pop() ?? ''] : schema) as BodySchema | undefined;
  };
  return Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => {
      const operation = item[method]!;
      const body = operation.requestBody;
      const content = body && 'content' in body ? body.content : {};
      return {
        method,
        path,
        jsonBody: resolve(content['application/json']?.schema),
        bodyFields: Object.values(content).flatMap((m) =>
          Object.keys(resolve(m.schema)?.properties ?? {}),
        ),
        queryFields: (operation.parameters ?? [])
          .filter((p) => 'in' in p && p.in === 'query')
          .map((p) => ('name' in p ? p.name : '')),
      };
    }),
  );
}

/** Percent-encoding that survives lone surrogates (sent as U+FFFD, as a browser would). */
const encode = (text: string): string => encodeURIComponent(Buffer.from(text).toString());

// ---- generators -------------------------------------------------------------------------

const ODD_KEYS = [
  '$where',
  '$gt',
  '$ne',
  '$regex',
  'a.b',
  '__proto__',
  'constructor',
  'prototype',
  '_id',
  'owner',
  'role',
  'active',
  'passwordHash',
  '',
  'x\u0000y',
];

/** Number literals as JSON text: beyond double precision, beyond its range (`1e400` is Infinity). */
const hugeNumber = fc.constantFrom(
  '1e308',
  '-1e308',
  '1e400',
  '-1e400',
  '9007199254740993',
  '18446744073709551616',
  '-0',
  '5e-324',
  '123456789012345678901234567890',
);

const oddString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '{"$gt":""}',
    'me',
    'null',
    '0',
    '-1',
    '1e999',
    ' ',
    '\ud800',
  ),
  fc.string({ minLength: 2000, maxLength: 20_000, unit: 'binary' }).map((s) => s.slice(0, 20_000)),
  fc.constantFrom('romance', 'poetry', 'user', 'admin', 'due', 'asc', 'desc', 'true', 'false'),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);

function keyArb(known: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: known.length > 0 ? fc.constantFrom(...known) : fc.string() },
    { weight: 2, arbitrary: fc.constantFrom(...ODD_KEYS) },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  );
}

/** JSON text built by hand, so keys such as `__proto__` and duplicates reach the server. */
function jsonText(known: string[]): fc.Arbitrary<string> {
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constant('null'),
      fc.boolean().map(String),
      fc.integer().map(String),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
      hugeNumber,
      oddString.map((s) => JSON.stringify(s)),
      fc
        .array(tie('value') as fc.Arbitrary<string>, { maxLength: 4 })
        .map((items) => `[${items.join(',')}]`),
      tie('object'),
    ),
    object: fc
      .array(fc.tuple(keyArb(known), tie('value') as fc.Arbitrary<string>), { maxLength: 6 })
      .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  }));
  const deep = fc
    .integer({ min: 20, max: 400 })
    .map((depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
  const deepArray = fc
    .integer({ min: 20, max: 400 })
    .map((d) => `${'['.repeat(d)}${']'.repeat(d)}`);
  const broken = (value as fc.Arbitrary<string>).map(
    (text) => text.slice(0, Math.max(0, text.length - 1)) || '{',
  );
  return fc.oneof(
    { weight: 6, arbitrary: value as fc.Arbitrary<string> },
    { weight: 1, arbitrary: deep },
    { weight: 1, arbitrary: deepArray },
    { weight: 1, arbitrary: broken },
  );
}

const QUERY_KEYS = [
  'page',
  'limit',
  'sort',
  'order',
  'genre',
  'addedBy',
  'owner',
  'role',
  'active',
];

function queryArb(known: string[]): fc.Arbitrary<string> {
  const pair = fc
    .tuple(
      keyArb([...known, ...QUERY_KEYS]),
      // Node refuses request heads over 16 KiB itself (431), before the app sees them.
      fc.oneof(
        oddString.map((value) => value.slice(0, 500)),
        hugeNumber,
      ),
    )
    .map(([key, value]) => `${encode(key)}=${encode(value)}`);
  // Bracket keys (`page[$gt]=1`) stay unencoded, as a hostile client would send them.
  const bracket = fc
    .tuple(fc.constantFrom(...known, ...QUERY_KEYS), fc.constantFrom(...ODD_KEYS))
    .map(([key, op]) => `${key}[${op}]=1`);
  return fc
    .array(fc.oneof({ weight: 4, arbitrary: pair }, { weight: 1, arbitrary: bracket }), {
      maxLength: 5,
    })
    .map((pairs) => (pairs.length > 0 ? `?${pairs.join('&')}` : ''));
}

function idArb(existing: () => string[]): fc.Arbitrary<string> {
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.nat(1000).map((i) => existing()[i % existing().length] ?? 'none'),
    },
    { weight: 2, arbitrary: fc.stringMatching(/^[0-9a-f]{24}$/) },
    { weight: 2, arbitrary: oddString.map((s) => s.slice(0, 200)) },
    { weight: 1, arbitrary: fc.constantFrom('me', '0', '-1', '%', '..', 'null', '{"$gt":""}') },
  );
}

/** A value the property's schema accepts, mostly; strings still carry odd characters. */
function valueFor(name: string, schema: PropertySchema): fc.Arbitrary<unknown> {
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.type === 'boolean') return fc.boolean();
  if (schema.type === 'integer' || schema.type === 'number') {
    return fc.integer({ min: schema.minimum ?? 0, max: schema.maximum ?? 1000 });
  }
  if (schema.type === 'array') {
    return fc.array(valueFor(name, schema.items ?? {}), { minLength: 1, maxLength: 3 });
  }
  if (schema.format === 'date-time' || name === 'due') {
    return fc
      .date({ min: new Date('2030-01-01'), max: new Date('2040-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString());
  }
  if (/email/i.test(name)) return fc.emailAddress();
  if (/password/i.test(name)) return fc.string({ maxLength: 12 }).map((s) => `Str0ng!pass${s}`);
  const minLength = Math.max(1, schema.minLength ?? 1);
  return fc.oneof(
    fc.string({ minLength, maxLength: Math.max(minLength, Math.min(schema.maxLength ?? 40, 40)) }),
    fc.constantFrom('a\u0000b', '$where', 'a.b', '  padded  ', '{"$gt":""}', '\ud800x'),
  );
}

/** A body the operation accepts, give or take one hostile field (added, replaced or removed). */
function nearlyValidBody(schema: BodySchema): fc.Arbitrary<string> {
  const properties = schema.properties ?? {};
  const names = Object.keys(properties);
  const valid = fc.record(
    Object.fromEntries(names.map((name) => [name, valueFor(name, properties[name])])),
    { requiredKeys: (schema.required ?? []).filter((name) => names.includes(name)) },
  );
  const change = fc.oneof(
    fc.constant(undefined),
    fc.tuple(keyArb(names), jsonText(names)),
    fc.tuple(fc.constantFrom(...(names.length > 0 ? names : ['x'])), fc.constant(undefined)),
  );
  return fc.tuple(valid, change).map(([body, edit]) => {
    const entries = Object.entries(body).map(([k, v]) => [k, JSON.stringify(v)] as const);
    const [key, value] = edit ?? [];
    const kept = entries.filter(([k]) => k !== key);
    if (key !== undefined && value !== undefined) kept.push([key, value]);
    return `{${kept.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
  });
}

function requestArb(operation: Operation, existing: () => string[]): fc.Arbitrary<FuzzRequest> {
  const params = operation.path.match(/\{[^}]+\}/g) ?? [];
  const carriesBody = operation.method !== 'get';
  const body = fc.option(
    fc.record({
      contentType: fc.oneof(
        {
          weight: 6,
          arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8'),
        },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            'text/plain',
            'application/x-www-form-urlencoded',
            'application/json; charset=latin1',
            'application/xml',
            'multipart/form-data; boundary=x',
            'not a media type',
            undefined,
          ),
        },
      ),
      text: operation.jsonBody
        ? fc.oneof(nearlyValidBody(operation.jsonBody), jsonText(operation.bodyFields))
        : jsonText(operation.bodyFields),
    }),
    { nil: undefined, freq: carriesBody ? 6 : 2 },
  );
  return fc.record({
    identity: fc.constantFrom<Identity>('anonymous', 'user', 'admin'),
    ids: fc.tuple(...params.map(() => idArb(existing))),
    // Without a query string more often, so that bodies and ids get past query validation.
    query: fc.oneof(
      { weight: operation.method === 'get' ? 1 : 3, arbitrary: fc.constant('') },
      { weight: 1, arbitrary: queryArb(operation.queryFields) },
    ),
    body,
  });
}

// ---- the test ---------------------------------------------------------------------------

// The routes are known only from a running app's document, and jest needs the tests declared
// up front: the app is created while the file loads (top-level await, ESM).
const t: TestApp = await createTestApp({ label: 'sec_fuzz' });
const operations = operationsOf(await buildOpenApiDocument(t.app));

describe('fuzzing every route of the OpenAPI document', () => {
  let user: TestUser;
  let admin: TestUser;
  let make: Fixtures;
  /** Ids of real documents by the collection in the route (`movies`, `users`…). */
  const existingIds: Record<string, string[]> = {};
  const remember = (kind: string, id: string) => (existingIds[kind] ??= []).push(id);
  const idsFor = (path: string) => () => existingIds[path.split('/')[2]] ?? [];

  const server = () => t.app.getHttpServer();

  /** Signs in again when a fuzzed request ended the session, or disabled or deleted the account. */
  async function stillSignedIn(who: TestUser, relogin: () => Promise<TestUser>): Promise<TestUser> {
    const me = await request(server()).get('/api/users/me').set(who.auth);
    return me.status === 200 ? who : relogin();
  }

  beforeAll(async () => {
    make = fixtures(t.app, { cover: coverOf(blackPng(20, 20)) });
    user = await make.user();
    admin = await make.admin();
    const [movie, todo, bucketlist, book] = await Promise.all([
      make.movie(user, { name: 'Fuzz', casts: ['A'], genres: ['drama'] }),
      make.todo(user, { title: 'Fuzz', due: '2031-01-01' }),
      make.bucketlist(user, { name: 'Fuzz' }),
      make.book(user, { title: 'Fuzz', category: 'poetry', description: 'fuzz' }),
    ]);
    remember('movies', movie.id);
    remember('todos', todo.id);
    remember('bucketlists', bucketlist.id);
    remember('books', book.id);
    remember('users', user.id);
    remember('users', admin.id);
  });

  afterAll(() => t.close());

  it('enumerates the whole document', () => {
    expect(operations.length).toBeGreaterThan(30);
    expect(operations.map((o) => `${o.method} ${o.path}`)).toContain('post /api/auth/login');
  });

  async function send(operation: Operation, input: FuzzRequest): Promise<request.Response> {
    let path = operation.path;
    for (const id of input.ids) path = path.replace(/\{[^}]+\}/, encode(id));
    let req = request(server())[operation.method](`${path}${input.query}`);
    if (input.identity !== 'anonymous') {
      req = req.set((input.identity === 'admin' ? admin : user).auth);
    }
    if (input.body) {
      if (input.body.contentType) req = req.set('Content-Type', input.body.contentType);
      req = req.send(input.body.text);
    }
    return req;
  }

  // One test per operation keeps each under the test timeout and names the route on failure.
  operations.forEach((operation, index) => {
    const name = `${operation.method.toUpperCase()} ${operation.path}`;
    it(`${name}: only declared answers, no 5xx, nothing written when refused`, async () => {
      // A fuzzed request may have ended the session, or disabled or deleted the account.
      user = await stillSignedIn(user, async () => {
        const again = await login(t.app, user.email, user.password).catch(() => make.user());
        remember('users', again.id);
        return again;
      });
      admin = await stillSignedIn(admin, () => make.admin());
      const watched = (await watchedCollections(t.app)).filter(
        (name) => !COUNTED_WHEN_REFUSED.includes(name),
      );
      await settled(t.app);
      let before = await snapshot(t.app, watched);
      await fc.assert(
        fc.asyncProperty(requestArb(operation, idsFor(operation.path)), async (input) => {
          const res = await send(operation, input);
          const where = `${name} -> ${res.status}`;
          const violations = takeContractViolations();
          if (violations.length > 0) {
            throw new Error(`undeclared answer: ${violations.map(formatViolation).join('; ')}`);
          }
          if (res.status >= 500) throw new Error(`${where}: ${res.text}`);
          await settled(t.app);
          const after = await snapshot(t.app, watched);
          if (res.status >= 400) {
            for (const collection of changedCollections(before, after)) {
              throw new Error(`${where} was refused but changed ${collection}`);
            }
          }
          before = after;
          // Later requests aim at what this one created.
          const created = (res.body as { id?: unknown } | undefined)?.id;
          if (res.status === 201 && typeof created === 'string') {
            remember(operation.path.split('/')[2], created);
          }
        }),
        { seed: SEED + index, numRuns: RUNS_PER_OPERATION },
      );
    }, 60_000);
  });
});

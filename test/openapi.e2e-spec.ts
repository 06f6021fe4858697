import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { compiledApp } from './support/build.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

interface Operation {
  summary?: string;
  tags?: string[];
  responses?: Record<string, unknown>;
  security?: Record<string, string[]>[];
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  parameters?: { name: string; in: string; required?: boolean }[];
}

interface LintReport {
  totals: { errors: number; warnings: number };
  problems: { ruleId: string; severity: string; message: string }[];
}

describe('OpenAPI document (npm run openapi)', () => {
  let dir: string;
  let file: string;
  let document: { openapi: string; paths: Record<string, Record<string, Operation>> };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'guardhouse-openapi-'));
    file = join(dir, 'openapi.json');
    // `npm run openapi` without its build step. The database URI points at a closed port: the
    // script must not need a database (nor start a server) to describe the API.
    execFileSync(
      process.execPath,
      ['scripts/openapi.mjs', '--dist', compiledApp(), '--out', file],
      {
        cwd: root,
        env: { ...process.env, MONGODB_URI: 'mongodb://127.0.0.1:1/unreachable' },
        stdio: ['ignore', 'pipe', 'inherit'],
        timeout: 20_000,
      },
    );
    document = JSON.parse(readFileSync(file, 'utf8'));
  }, 60_000);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('describes the API under /api', () => {
    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.paths)).toContain('/api/health');
  });

  it('passes redocly lint with no errors', () => {
    const lint = spawnSync(
      'npx',
      ['--no', 'redocly', 'lint', file, '--config', 'redocly.yaml', '--format=json'],
      {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
        timeout: 30_000,
      },
    );
    const report = JSON.parse(lint.stdout) as LintReport;
    const errors = report.problems.filter((problem) => problem.severity === 'error');
    expect(errors).toEqual([]);
    expect(report.totals.errors).toBe(0);
    expect(lint.status).toBe(0);
  });

  it('gives every operation a summary, a tag and a response', () => {
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => METHODS.includes(method))
        .map(([method, operation]) => ({
          operation: `${method.toUpperCase()} ${path}`,
          ...operation,
        })),
    );
    expect(operations.length).toBeGreaterThan(0);
    for (const { operation, summary, tags, responses } of operations) {
      expect({ operation, summary: Boolean(summary?.trim()) }).toEqual({
        operation,
        summary: true,
      });
      expect({ operation, tags: (tags ?? []).length > 0 }).toEqual({ operation, tags: true });
      expect({ operation, responses: Object.keys(responses ?? {}).length > 0 }).toEqual({
        operation,
        responses: true,
      });
    }
  });

  it('requires no header a browser cannot send (Swagger UI must be able to call every route)', () => {
    const required = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => METHODS.includes(method))
        .flatMap(([method, operation]) =>
          (operation.parameters ?? [])
            .filter((p) => p.in === 'header' && p.required)
            .map((p) => `${method.toUpperCase()} ${path}: ${p.name}`),
        ),
    );
    expect(required).toEqual([]);
  });

  it('declares security, request schemas and the error answers of every operation', () => {
    const problems: string[] = [];
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (!METHODS.includes(method)) continue;
        const name = `${method.toUpperCase()} ${path}`;
        const codes = Object.keys(operation.responses ?? {});
        const need = (code: string, why: string) => {
          if (!codes.includes(code)) problems.push(`${name}: no ${code} (${why})`);
        };
        if (!Array.isArray(operation.security)) problems.push(`${name}: no security`);
        else if (operation.security.length > 0) need('401', 'protected');
        if (path.includes('{')) need('400', 'path parameter');
        if (/\{id\}/.test(path)) need('404', 'resource id');
        if (operation.requestBody) {
          need('400', 'request body');
          const media = Object.values(operation.requestBody.content ?? {});
          if (media.length === 0 || media.some((m) => !m.schema)) {
            problems.push(`${name}: request body without a schema`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('declares the platform’s answers on every operation they apply to, with the Error schema', () => {
    const components = (document as { components?: { schemas?: Record<string, unknown> } })
      .components;
    expect(components?.schemas?.Error).toMatchObject({
      required: ['statusCode', 'error', 'message'],
    });
    const problems: string[] = [];
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (!METHODS.includes(method)) continue;
        const name = `${method.toUpperCase()} ${path}`;
        const responses = (operation.responses ?? {}) as Record<
          string,
          { content?: Record<string, unknown> }
        >;
        const need = (code: string, why: string) => {
          if (!responses[code]) problems.push(`${name}: no ${code} (${why})`);
        };
        if (['post', 'put', 'patch', 'delete'].includes(method)) {
          need('413', 'body over the limit');
          need('415', 'unsupported body type');
        }
        if (path.startsWith('/api/auth/') && path !== '/api/auth/jwks.json')
          need('429', 'rate limit');
        if (path !== '/api/auth/jwks.json') need('503', 'database down');
        for (const [code, response] of Object.entries(responses)) {
          if (Number(code) >= 400 && !response.content?.['application/json']) {
            problems.push(`${name}: ${code} without a JSON body schema`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

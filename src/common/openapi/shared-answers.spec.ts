import type { OpenAPIObject } from '@nestjs/swagger';

import { declareSharedAnswers } from './shared-answers.js';

type Operation = OpenAPIObject['paths'][string]['get'];

const documentOf = (paths: OpenAPIObject['paths']): OpenAPIObject => ({
  openapi: '3.0.0',
  info: { title: 't', version: '1' },
  paths,
});

const codesOf = (operation: Operation): string[] => Object.keys(operation?.responses ?? {}).sort();

const declare = (document: OpenAPIObject): OpenAPIObject => {
  declareSharedAnswers(document, { rateLimited: () => false, databaseFree: () => true });
  return document;
};

describe('declareSharedAnswers', () => {
  it('adds 401 and 403 to an operation with a security requirement, not to a public one', () => {
    const document = declare(
      documentOf({
        '/api/secured': {
          get: { security: [{ bearer: [] }], responses: { 200: { description: 'ok' } } },
        },
        '/api/public': { get: { security: [], responses: { 200: { description: 'ok' } } } },
      }),
    );
    expect(codesOf(document.paths['/api/secured']?.get)).toEqual(['200', '401', '403']);
    expect(codesOf(document.paths['/api/public']?.get)).toEqual(['200']);
  });

  it('adds 400 where the route takes input: a path or query parameter, or a body', () => {
    const ok = { 200: { description: 'ok' } };
    const document = declare(
      documentOf({
        '/api/things/{id}': {
          get: {
            security: [],
            parameters: [{ name: 'id', in: 'path', required: true }],
            responses: { ...ok },
          },
        },
        '/api/things': {
          get: { security: [], parameters: [{ name: 'page', in: 'query' }], responses: { ...ok } },
          post: { security: [], responses: { ...ok } },
        },
        '/api/plain': {
          get: { security: [], parameters: [{ name: 'x-id', in: 'header' }], responses: { ...ok } },
        },
      }),
    );
    expect(codesOf(document.paths['/api/things/{id}']?.get)).toContain('400');
    expect(codesOf(document.paths['/api/things']?.get)).toContain('400');
    expect(codesOf(document.paths['/api/things']?.post)).toContain('400');
    expect(codesOf(document.paths['/api/plain']?.get)).toEqual(['200']);
  });

  it('keeps what a route declares itself, and gives the added answers the Error schema', () => {
    const document = declare(
      documentOf({
        '/api/login': {
          post: {
            security: [{ bearer: [] }],
            responses: { 401: { description: 'Invalid email or password' } },
          },
        },
      }),
    );
    const responses = document.paths['/api/login']?.post?.responses ?? {};
    expect(responses[401]).toMatchObject({ description: 'Invalid email or password' });
    expect(responses[403]).toMatchObject({
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    });
  });
});

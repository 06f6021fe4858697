import request from 'supertest';

import { buildOpenApiDocument } from '../src/bootstrap.js';
import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';
import { Contract, STALE_METADATA_HINT, takeContractViolations } from './support/contract.js';
import { signupAndLogin } from './support/users.js';

// The response check every e2e file runs (test/support/contract.ts): it must catch what it is
// for, and the document it checks against must itself accept the app's real answers.
describe('OpenAPI response contract', () => {
  let t: TestApp;
  let contract: Contract;

  beforeAll(async () => {
    t = await createTestApp({ label: 'contract' });
    contract = new Contract(await buildOpenApiDocument(t.app));
  });

  afterAll(() => t.close());

  const json = 'application/json; charset=utf-8';

  const me = {
    id: '0123456789abcdef01234567',
    email: 'a@example.com',
    name: 'A',
    role: 'user',
    active: true,
    emailVerified: false,
    mfaEnabled: false,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };

  it('refuses an undeclared status, content type or field, and a leaked field', () => {
    expect(contract.check('GET', '/api/health', 418, json, '{}')).toMatch(/418 is not declared/);
    expect(contract.check('GET', '/api/users/me', 401, 'text/html', '<h1>no</h1>')).toMatch(
      /content type text\/html is not declared/,
    );
    expect(contract.check('GET', '/api/users/me', 200, json, JSON.stringify(me))).toBeUndefined();
    expect(
      contract.check(
        'GET',
        '/api/users/me',
        200,
        json,
        JSON.stringify({ ...me, passwordHash: 'x' }),
      ),
    ).toMatch(/passwordHash/);
    expect(contract.check('GET', '/api/users/me', 200, json, '{"id":1}')).toMatch(/schema/);
    expect(contract.check('GET', '/api/users/me', 500, json, '{}')).toMatch(/500 is not declared/);
    expect(contract.check('GET', undefined, 200, json, '{}')).toMatch(/no route matched/);
    expect(contract.check('DELETE', '/api/todos/:id', 204, undefined, '')).toBeUndefined();
    expect(contract.check('DELETE', '/api/todos/:id', 204, json, '{}')).toMatch(/declares none/);
  });

  it('points at src/metadata.ts and its command when a body has fields the document lacks', () => {
    const undeclared = contract.check(
      'GET',
      '/api/users/me',
      200,
      json,
      JSON.stringify({ ...me, nickname: 'new field' }),
    );
    expect(undeclared).toMatch(/nickname/);
    expect(undeclared).toContain(STALE_METADATA_HINT);
    expect(STALE_METADATA_HINT).toMatch(/src\/metadata\.ts .*`npm run swagger:metadata`/);
    // A body that breaks the schema otherwise says nothing about the metadata.
    expect(contract.check('GET', '/api/users/me', 200, json, '{"id":1}')).not.toContain('metadata');
  });

  it('records what the app answers outside its document, for the test that received it', async () => {
    // An error body without `error` is not the documented Error shape.
    expect(
      contract.check(
        'GET',
        '/api/users/me',
        401,
        json,
        '{"message":"Unauthorized","statusCode":401}',
      ),
    ).toMatch(/error/);
    await request(t.app.getHttpServer()).get('/api/users/me').expect(401);
    await request(t.app.getHttpServer()).get('/api/no-such-route').expect(404);
    expect(takeContractViolations()).toEqual([]);
  });

  it('publishes a todo list schema that both audiences’ answers satisfy', async () => {
    // Checked with the schemas as published (open objects), as a client's validator would.
    const published = new Contract(contract.document, { closed: false });
    const user = await signupAndLogin(t.app);
    const server = t.app.getHttpServer();
    await request(server)
      .post('/api/todos')
      .set(user.auth)
      .send({ title: 'Water the plants', description: 'all of them', due: '2031-01-01' })
      .expect(201);
    for (const auth of [user.auth, {}]) {
      const res = await request(server).get('/api/todos').set(auth).expect(200);
      expect(res.body.items.length).toBeGreaterThan(0);
      expect(
        published.check('GET', '/api/todos', 200, res.headers['content-type'], res.text),
      ).toBeUndefined();
    }
  });
});

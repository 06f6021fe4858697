import request from 'supertest';

import type { ApiKeyScope } from '../src/auth/index.js';
import { API_KEY_SCOPES } from '../src/auth/index.js';
import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';
import type { Fixtures } from './support/fixtures.js';
import { fixtures } from './support/fixtures.js';
import { registeredRoutes } from './support/routes.js';
import type { TestUser } from './support/users.js';

/**
 * Every route × every scope of the catalogue: which routes an API key opens. The route list
 * comes from Nest's controllers (as in the access matrix), so a new route without a row here
 * fails, and a row says on purpose whether keys reach it: `public` (@Public: no credential is
 * read), `closed` (no @Scopes: keys get 403 whatever they hold), or the one scope that opens it.
 */
type Access = ApiKeyScope | 'public' | 'closed';

const ROUTES: Record<string, Access> = {
  'GET /api/health': 'public',
  'POST /api/auth/signup': 'public',
  'POST /api/auth/login': 'public',
  'POST /api/auth/refresh': 'public',
  'POST /api/auth/logout': 'public',
  'POST /api/auth/logout-all': 'closed',
  'PATCH /api/auth/password': 'closed',
  'GET /api/auth/jwks.json': 'public',
  'POST /api/auth/reauthenticate': 'closed',
  'POST /api/auth/password/forgot': 'public',
  'POST /api/auth/password/reset': 'public',
  'POST /api/auth/email/verify': 'public',
  'POST /api/auth/email/change/confirm': 'public',
  'POST /api/auth/email/resend': 'closed',
  'POST /api/users/me/email': 'closed',
  'GET /api/auth/mfa': 'closed',
  'POST /api/auth/mfa/totp': 'closed',
  'POST /api/auth/mfa/totp/confirm': 'closed',
  'DELETE /api/auth/mfa/totp': 'closed',
  'POST /api/auth/login/mfa': 'public',
  'DELETE /api/users/:id/mfa': 'closed',
  'GET /api/auth/sessions': 'closed',
  'DELETE /api/auth/sessions/:id': 'closed',
  'GET /api/users/:id/sessions': 'closed',
  'DELETE /api/users/:id/sessions/:sessionId': 'closed',
  'GET /api/users/me/events': 'account:read',
  'GET /api/audit-events': 'admin',
  'GET /api/users/me': 'account:read',
  'PATCH /api/users/me': 'closed',
  'DELETE /api/users/me': 'closed',
  'GET /api/users': 'admin',
  'GET /api/users/:id': 'admin',
  'PATCH /api/users/:id': 'closed',
  'DELETE /api/users/:id': 'closed',
  'GET /api/movies': 'movies:read',
  'GET /api/movies/:id': 'public',
  'POST /api/movies': 'movies:write',
  'PUT /api/movies/:id': 'movies:write',
  'PATCH /api/movies/:id': 'movies:write',
  'DELETE /api/movies/:id': 'movies:write',
  'GET /api/books': 'books:read',
  'GET /api/books/:id': 'books:read',
  'GET /api/books/:id/cover': 'books:read',
  'POST /api/books': 'books:write',
  'PUT /api/books/:id': 'books:write',
  'PATCH /api/books/:id': 'books:write',
  'DELETE /api/books/:id': 'books:write',
  'GET /api/todos': 'todos:read',
  'POST /api/todos': 'todos:write',
  'GET /api/todos/:id': 'todos:read',
  'PUT /api/todos/:id': 'todos:write',
  'PATCH /api/todos/:id': 'todos:write',
  'DELETE /api/todos/:id': 'todos:write',
  'PATCH /api/todos/:id/done': 'admin',
  'GET /api/bucketlists': 'bucketlists:read',
  'POST /api/bucketlists': 'bucketlists:write',
  'GET /api/bucketlists/:id': 'bucketlists:read',
  'PUT /api/bucketlists/:id': 'bucketlists:write',
  'PATCH /api/bucketlists/:id': 'bucketlists:write',
  'DELETE /api/bucketlists/:id': 'bucketlists:write',
  'POST /api/auth/api-keys': 'closed',
  'GET /api/auth/api-keys': 'closed',
  'DELETE /api/auth/api-keys/:id': 'closed',
  'GET /api/users/:id/api-keys': 'closed',
  'DELETE /api/users/:id/api-keys/:keyId': 'closed',
  // Passkeys and OIDC sign-in (merged after the matrix was written): sign-in steps are public,
  // managing one's own credentials is closed to keys.
  'POST /api/auth/passkeys/registration/options': 'closed',
  'POST /api/auth/passkeys/registration': 'closed',
  'GET /api/auth/passkeys': 'closed',
  'PATCH /api/auth/passkeys/:id': 'closed',
  'DELETE /api/auth/passkeys/:id': 'closed',
  'POST /api/auth/passkeys/login/options': 'public',
  'POST /api/auth/passkeys/login': 'public',
  'POST /api/auth/login/mfa/passkey/options': 'public',
  'POST /api/auth/login/mfa/passkey': 'public',
  'POST /api/auth/reauthenticate/options': 'closed',
  'GET /api/auth/providers': 'public',
  'GET /api/auth/oidc/:provider/start': 'public',
  'GET /api/auth/oidc/:provider/callback': 'public',
  'POST /api/auth/oidc/exchange': 'public',
  'GET /api/auth/identities': 'closed',
  'POST /api/auth/identities/:provider': 'closed',
  'DELETE /api/auth/identities/:provider': 'closed',
  'POST /api/auth/identities/confirm': 'closed',
};

/** Whether an answer is the key gate's refusal (403 insufficient_scope), not the route's own. */
const refusedByScope = (res: request.Response): boolean =>
  res.status === 403 && /insufficient_scope/.test(String(res.headers['www-authenticate']));

describe('API key scope matrix', () => {
  let t: TestApp;
  let make: Fixtures;
  /** The owner of every key and resource: an admin, so that every scope may be held. */
  let owner: TestUser;
  const keys = new Map<ApiKeyScope | 'all', string>();

  beforeAll(async () => {
    t = await createTestApp({ label: 'api_key_scopes' });
    make = fixtures(t.app);
    owner = await make.newAdmin(await make.admin());
    const create = async (name: string, scopes: readonly ApiKeyScope[]) => {
      const res = await request(t.app.getHttpServer())
        .post('/api/auth/api-keys')
        .set(owner.auth)
        .send({ name, scopes });
      if (res.status !== 201) throw new Error(`key creation failed: ${res.status} ${res.text}`);
      return res.body.key as string;
    };
    for (const scope of API_KEY_SCOPES) keys.set(scope, await create(scope, [scope]));
    keys.set('all', await create('all', API_KEY_SCOPES));
  });

  afterAll(() => t.close());

  it('has exactly one row for every registered route', () => {
    const registered = registeredRoutes(t.app)
      .map((r) => r.route)
      .sort();
    expect(Object.keys(ROUTES).sort()).toEqual(registered);
  });

  it('marks public exactly the routes that read no credential', () => {
    for (const { route, isPublic } of registeredRoutes(t.app)) {
      if (ROUTES[route] === 'public')
        expect({ route, isPublic }).toEqual({ route, isPublic: true });
    }
  });

  /** Route parameters: a resource of the owner where the route loads one, the owner elsewhere. */
  async function paramsFor(route: string): Promise<Record<string, string>> {
    const model = {
      movies: 'Movie',
      books: 'Book',
      todos: 'Todo',
      bucketlists: 'Bucketlist',
    }[route.split('/')[2]];
    const id = model && route.includes(':id') ? (await make.owned(model, owner)).id : owner.id;
    return { id, sessionId: 'A'.repeat(22), keyId: 'A'.repeat(12) };
  }

  const send = (route: string, params: Record<string, string>, key: string) => {
    const [method, template] = route.split(' ');
    const path = template.replace(/:(\w+)/g, (_m, name: string) => params[name]);
    return request(t.app.getHttpServer())
      [method.toLowerCase() as 'get'](path)
      .set('Authorization', `Bearer ${key}`);
  };

  const rows = Object.entries(ROUTES).filter(([, access]) => access !== 'public');

  describe.each(rows)('%s', (route, access) => {
    it(`opens to ${access === 'closed' ? 'no key' : `a key with ${access}, and no other`}`, async () => {
      const params = await paramsFor(route);
      const outcomes: Record<string, boolean> = {};
      const expected: Record<string, boolean> = {};
      // The keys without the route's scope first: a key that opens it may delete the resource.
      const order = [...API_KEY_SCOPES].sort((a, b) => Number(a === access) - Number(b === access));
      for (const scope of order) {
        const res = await send(route, params, keys.get(scope) ?? '');
        outcomes[scope] = !refusedByScope(res) && res.status !== 401;
        expected[scope] = scope === access;
      }
      if (access === 'closed') {
        const res = await send(route, params, keys.get('all') ?? '');
        outcomes.all = !refusedByScope(res);
        expected.all = false;
      }
      expect(outcomes).toEqual(expected);
    });
  });
});

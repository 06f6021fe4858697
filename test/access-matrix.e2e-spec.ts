import { randomBytes } from 'node:crypto';

import type { Test } from 'supertest';
import request from 'supertest';

import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';
import type { Fixtures } from './support/fixtures.js';
import { fixtures, resourcesWithoutFixture } from './support/fixtures.js';
import { blackPng } from './support/images.js';
import { enrolledUser } from './support/mfa.js';
import { registerPasskey } from './support/passkeys.js';
import { ownedModels, registeredRoutes } from './support/routes.js';
import { decodePayload } from './support/tokens.js';
import type { TestUser } from './support/users.js';
import { login, STRONG_PASSWORD } from './support/users.js';

/**
 * Every route the app registers × {anonymous, user (the owner), other user, admin} → status.
 * The route list comes from Nest's controllers, so a new route without a row fails the suite,
 * and a row's anonymous column must be 401 unless the route is deliberately public.
 */
type Actor = 'anonymous' | 'user' | 'other' | 'admin';
const ACTORS: Actor[] = ['anonymous', 'user', 'other', 'admin'];

interface Context {
  app: TestApp['app'];
  /** Owner of the resources a row prepares; the "user" actor. */
  owner: TestUser;
  other: TestUser;
  admin: TestUser;
  make: Fixtures;
}

interface Row {
  route: string;
  expect: Record<Actor, number>;
  /** Values for `:params`, prepared afresh for each actor (e.g. a new resource owned by `owner`). */
  params?: (ctx: Context) => Promise<Record<string, string>>;
  body?: (ctx: Context) => object;
  /** Custom request (e.g. multipart); gets the request with auth already set, and the actor. */
  send?: (req: Test, ctx: Context, actor?: TestUser) => Test;
  /** Brand-new user, other and admin accounts for each actor (routes that end the caller's sessions). */
  freshUsers?: boolean;
}

const all = (status: number): Record<Actor, number> => ({
  anonymous: status,
  user: status,
  other: status,
  admin: status,
});
const loggedIn = (status: number, admin = status): Record<Actor, number> => ({
  anonymous: 401,
  user: status,
  other: status,
  admin,
});
const adminOnly = (status: number): Record<Actor, number> => ({
  anonymous: 401,
  user: 403,
  other: 403,
  admin: status,
});
const ownerOrAdmin = (status: number, others = 403): Record<Actor, number> => ({
  anonymous: 401,
  user: status,
  other: others,
  admin: status,
});

/** The owner only: others, admins included, are told it does not exist. */
const ownPasskey = (status: number): Record<Actor, number> => ({
  anonymous: 401,
  user: status,
  other: 404,
  admin: 404,
});

/** A well-formed WebAuthn assertion for no challenge this server handed out. */
const UNASKED_ASSERTION = {
  id: 'AAAA',
  rawId: 'AAAA',
  type: 'public-key',
  clientExtensionResults: {},
  response: { clientDataJSON: 'e30', authenticatorData: 'AAAA', signature: 'AAAA' },
};

const unique = (): string => randomBytes(6).toString('hex');

/** Route parameters of a new resource of this `@Owned` model, owned by the row's owner. */
const owned =
  (model: string) =>
  ({ make, owner }: Context): Promise<Record<string, string>> =>
    make.owned(model, owner).then(({ id }) => ({ id }));

/** A multipart book form: the text fields plus a small PNG `cover_image`. */
function bookForm(req: Test, fields: Record<string, string>): Test {
  for (const [name, value] of Object.entries(fields)) req = req.field(name, value);
  return req.attach('cover_image', blackPng(60, 40), {
    filename: 'c.png',
    contentType: 'image/png',
  });
}

/** A new login of the owner; its session id (the access token's `sid`). */
async function ownerSession({ app, owner }: Context): Promise<string> {
  const { token } = await login(app, owner.email, owner.password);
  return decodePayload(token).sid as string;
}

const ROWS: Row[] = [
  { route: 'GET /api/health', expect: all(200) },

  {
    route: 'POST /api/auth/signup',
    expect: all(201),
    body: () => ({ email: `m-${unique()}@example.com`, password: STRONG_PASSWORD, name: 'M' }),
  },
  {
    route: 'POST /api/auth/login',
    expect: all(200),
    body: ({ owner }) => ({ email: owner.email, password: owner.password }),
  },

  {
    route: 'POST /api/auth/refresh',
    // Each actor presents a fresh refresh token of the owner: the token is the credential.
    expect: all(200),
    send: (req, ctx) => req.send({ refreshToken: ctx.owner.refreshToken }),
    freshUsers: true,
  },
  {
    route: 'POST /api/auth/logout',
    expect: all(204),
    send: (req, ctx) => req.send({ refreshToken: ctx.owner.refreshToken }),
    freshUsers: true,
  },
  { route: 'POST /api/auth/logout-all', expect: loggedIn(204), freshUsers: true },
  {
    route: 'PATCH /api/auth/password',
    expect: loggedIn(204),
    freshUsers: true,
    send: (req, _ctx, actor) =>
      req.send({ currentPassword: actor?.password ?? 'whatever', newPassword: 'An0ther!pass' }),
  },
  { route: 'GET /api/auth/jwks.json', expect: all(200) },
  {
    route: 'POST /api/auth/reauthenticate',
    expect: loggedIn(200),
    send: (req, _ctx, actor) => req.send({ password: actor?.password ?? 'whatever' }),
  },

  // Recovery and verification links: the emailed token is the credential, so without one every
  // caller gets the same 400 (and a 202 that reveals nothing for a reset request).
  {
    route: 'POST /api/auth/password/forgot',
    expect: all(202),
    body: ({ owner }) => ({ email: owner.email }),
  },
  {
    route: 'POST /api/auth/password/reset',
    expect: all(400),
    body: () => ({ token: 'A'.repeat(43), newPassword: 'An0ther!pass' }),
  },
  {
    route: 'POST /api/auth/email/verify',
    expect: all(400),
    body: () => ({ token: 'A'.repeat(43) }),
  },
  {
    route: 'POST /api/auth/email/change/confirm',
    expect: all(400),
    body: () => ({ token: 'A'.repeat(43) }),
  },
  { route: 'POST /api/auth/email/resend', expect: loggedIn(202) },
  {
    route: 'POST /api/users/me/email',
    expect: loggedIn(202),
    send: (req, _ctx, actor) =>
      req.send({
        newEmail: `moved-${unique()}@example.com`,
        currentPassword: actor?.password ?? 'whatever',
      }),
  },

  // Second factor: your own only; an admin may switch off another account's (lost phone).
  { route: 'GET /api/auth/mfa', expect: loggedIn(200) },
  {
    route: 'POST /api/auth/mfa/totp',
    expect: loggedIn(201),
    freshUsers: true,
    send: (req, _ctx, actor) => req.send({ password: actor?.password ?? 'whatever' }),
  },
  // Nobody has started an enrolment, nor has the factor on: logged-in callers get 409.
  {
    route: 'POST /api/auth/mfa/totp/confirm',
    expect: loggedIn(409),
    body: () => ({ code: '123456' }),
  },
  {
    route: 'DELETE /api/auth/mfa/totp',
    expect: loggedIn(409),
    send: (req, _ctx, actor) =>
      req.send({ password: actor?.password ?? 'whatever', code: '123456' }),
  },
  {
    route: 'POST /api/auth/login/mfa',
    expect: all(401),
    body: () => ({ mfaToken: 'A'.repeat(43), code: '123456' }),
  },
  {
    route: 'DELETE /api/users/:id/mfa',
    expect: adminOnly(204),
    params: async ({ app }) => ({ id: (await enrolledUser(app)).id }),
    // The acting admin's own password (no code: this admin has no factor).
    send: (req, _ctx, actor) => req.send({ password: actor?.password ?? 'whatever' }),
  },

  // Sessions: your own list; another user's session id is a 404, like an unknown one.
  { route: 'GET /api/auth/sessions', expect: loggedIn(200) },
  {
    route: 'DELETE /api/auth/sessions/:id',
    expect: { anonymous: 401, user: 204, other: 404, admin: 404 },
    params: async (ctx) => ({ id: await ownerSession(ctx) }),
  },
  {
    route: 'GET /api/users/:id/sessions',
    expect: adminOnly(200),
    params: ({ owner }) => Promise.resolve({ id: owner.id }),
  },
  {
    route: 'DELETE /api/users/:id/sessions/:sessionId',
    expect: adminOnly(204),
    params: async (ctx) => ({ id: ctx.owner.id, sessionId: await ownerSession(ctx) }),
  },

  // Audit trail: your own account's events (each caller sees only theirs); every event, admins only.
  { route: 'GET /api/users/me/events', expect: loggedIn(200) },
  { route: 'GET /api/audit-events', expect: adminOnly(200) },

  { route: 'GET /api/users/me', expect: loggedIn(200) },
  { route: 'PATCH /api/users/me', expect: loggedIn(200), body: () => ({ name: 'Renamed' }) },
  // A (fresh) admin may disable itself while another active admin remains.
  { route: 'DELETE /api/users/me', expect: loggedIn(204), freshUsers: true },
  { route: 'GET /api/users', expect: adminOnly(200) },
  {
    route: 'GET /api/users/:id',
    expect: adminOnly(200),
    params: ({ owner }) => Promise.resolve({ id: owner.id }),
  },
  {
    route: 'PATCH /api/users/:id',
    expect: adminOnly(200),
    params: ({ owner }) => Promise.resolve({ id: owner.id }),
    body: () => ({ active: true }),
  },
  {
    route: 'DELETE /api/users/:id',
    expect: adminOnly(204),
    params: async ({ make }) => ({ id: (await make.user()).id }),
  },

  { route: 'GET /api/movies', expect: all(200) },
  { route: 'GET /api/movies/:id', expect: all(200), params: owned('Movie') },
  {
    route: 'POST /api/movies',
    expect: loggedIn(201),
    body: () => ({ name: `Matrix ${unique()}`, casts: ['a'], genres: ['b'] }),
  },
  {
    route: 'PUT /api/movies/:id',
    expect: ownerOrAdmin(200),
    params: owned('Movie'),
    body: () => ({ name: `Matrix ${unique()}`, casts: ['c'], genres: ['d'] }),
  },
  {
    route: 'PATCH /api/movies/:id',
    expect: ownerOrAdmin(200),
    params: owned('Movie'),
    body: () => ({ casts: ['e'] }),
  },
  { route: 'DELETE /api/movies/:id', expect: ownerOrAdmin(204), params: owned('Movie') },

  { route: 'GET /api/books', expect: loggedIn(200) },
  { route: 'GET /api/books/:id', expect: loggedIn(200), params: owned('Book') },
  { route: 'GET /api/books/:id/cover', expect: loggedIn(200), params: owned('Book') },
  {
    route: 'POST /api/books',
    expect: loggedIn(201),
    send: (req) => bookForm(req, { title: `Matrix ${unique()}`, category: 'poetry' }),
  },
  {
    route: 'PUT /api/books/:id',
    expect: ownerOrAdmin(200),
    params: owned('Book'),
    body: () => ({ title: `Matrix ${unique()}`, category: 'horror' }),
  },
  {
    route: 'PATCH /api/books/:id',
    expect: ownerOrAdmin(200),
    params: owned('Book'),
    send: (req) => bookForm(req, { description: 'New cover' }),
  },
  { route: 'DELETE /api/books/:id', expect: ownerOrAdmin(204), params: owned('Book') },

  // Anonymous callers get the public view of the newest todos (@OptionalAuth).
  { route: 'GET /api/todos', expect: all(200) },
  {
    route: 'POST /api/todos',
    expect: loggedIn(201),
    body: () => ({ title: `Matrix ${unique()}`, due: '2030-01-01' }),
  },
  { route: 'GET /api/todos/:id', expect: ownerOrAdmin(200), params: owned('Todo') },
  {
    route: 'PUT /api/todos/:id',
    expect: ownerOrAdmin(200),
    params: owned('Todo'),
    body: () => ({ title: `Matrix ${unique()}`, due: '2031-01-01T09:00:00Z' }),
  },
  {
    route: 'PATCH /api/todos/:id',
    expect: ownerOrAdmin(200),
    params: owned('Todo'),
    body: () => ({ description: 'changed' }),
  },
  { route: 'DELETE /api/todos/:id', expect: ownerOrAdmin(204), params: owned('Todo') },
  // The owner is refused too: marking done is the admin's call.
  {
    route: 'PATCH /api/todos/:id/done',
    expect: adminOnly(200),
    params: owned('Todo'),
    body: () => ({ done: true }),
  },

  // Private: another user's bucket list is a 404, as if it did not exist.
  { route: 'GET /api/bucketlists', expect: loggedIn(200) },
  {
    route: 'POST /api/bucketlists',
    expect: loggedIn(201),
    body: () => ({ name: `Matrix ${unique()}` }),
  },
  {
    route: 'GET /api/bucketlists/:id',
    expect: ownerOrAdmin(200, 404),
    params: owned('Bucketlist'),
  },
  {
    route: 'PUT /api/bucketlists/:id',
    expect: ownerOrAdmin(200, 404),
    params: owned('Bucketlist'),
    body: () => ({ name: `Matrix ${unique()}` }),
  },
  {
    route: 'PATCH /api/bucketlists/:id',
    expect: ownerOrAdmin(200, 404),
    params: owned('Bucketlist'),
    body: () => ({ name: `Matrix ${unique()}` }),
  },
  {
    route: 'DELETE /api/bucketlists/:id',
    expect: ownerOrAdmin(204, 404),
    params: owned('Bucketlist'),
  },

  // API keys: your own (a fresh login counts as a recent authentication); an admin's view of any user's.
  {
    route: 'POST /api/auth/api-keys',
    expect: loggedIn(201),
    body: () => ({ name: `Matrix ${unique()}`, scopes: ['movies:read'] }),
  },
  { route: 'GET /api/auth/api-keys', expect: loggedIn(200) },
  {
    route: 'DELETE /api/auth/api-keys/:id',
    expect: { anonymous: 401, user: 204, other: 404, admin: 404 },
    params: async (ctx) => ({ id: await ownerKey(ctx) }),
  },
  {
    route: 'GET /api/users/:id/api-keys',
    expect: adminOnly(200),
    params: ({ owner }) => Promise.resolve({ id: owner.id }),
  },
  {
    route: 'DELETE /api/users/:id/api-keys/:keyId',
    expect: adminOnly(204),
    params: async (ctx) => ({ id: ctx.owner.id, keyId: await ownerKey(ctx) }),
  },

  // OpenID Connect sign-in (test/oidc.e2e-spec.ts runs it with a provider): this app has none,
  // so every provider is unknown (404) and a code is never valid (401).
  { route: 'GET /api/auth/providers', expect: all(200) },
  {
    route: 'GET /api/auth/oidc/:provider/start',
    expect: all(404),
    params: () => Promise.resolve({ provider: 'none' }),
  },
  {
    route: 'GET /api/auth/oidc/:provider/callback',
    expect: all(404),
    params: () => Promise.resolve({ provider: 'none' }),
  },
  {
    route: 'POST /api/auth/oidc/exchange',
    expect: all(401),
    body: () => ({ code: 'A'.repeat(43), verifier: 'B'.repeat(43) }),
  },
  { route: 'GET /api/auth/identities', expect: loggedIn(200) },
  {
    route: 'POST /api/auth/identities/confirm',
    expect: loggedIn(400),
    body: () => ({ code: 'A'.repeat(43) }),
  },
  {
    route: 'POST /api/auth/identities/:provider',
    expect: loggedIn(404),
    params: () => Promise.resolve({ provider: 'none' }),
  },
  {
    route: 'DELETE /api/auth/identities/:provider',
    expect: loggedIn(404),
    params: () => Promise.resolve({ provider: 'none' }),
  },
  // Passkeys: your own only (admins included: another account's passkey is a 404). A well-formed
  // assertion nobody asked for is refused alike for every caller.
  { route: 'POST /api/auth/passkeys/registration/options', expect: loggedIn(200) },
  {
    route: 'POST /api/auth/passkeys/registration',
    expect: loggedIn(400),
    body: () => ({ response: {} }),
  },
  { route: 'GET /api/auth/passkeys', expect: loggedIn(200) },
  {
    route: 'PATCH /api/auth/passkeys/:id',
    expect: ownPasskey(200),
    params: ({ app, owner }) => registerPasskey(app, owner).then(({ id }) => ({ id })),
    body: () => ({ name: `Key ${unique()}` }),
  },
  {
    route: 'DELETE /api/auth/passkeys/:id',
    expect: ownPasskey(204),
    params: ({ app, owner }) => registerPasskey(app, owner).then(({ id }) => ({ id })),
  },
  { route: 'POST /api/auth/passkeys/login/options', expect: all(200) },
  {
    route: 'POST /api/auth/passkeys/login',
    expect: all(401),
    body: () => ({ response: UNASKED_ASSERTION }),
  },
  {
    route: 'POST /api/auth/login/mfa/passkey/options',
    expect: all(401),
    body: () => ({ mfaToken: 'A'.repeat(43) }),
  },
  {
    route: 'POST /api/auth/login/mfa/passkey',
    expect: all(401),
    body: () => ({ mfaToken: 'A'.repeat(43), response: UNASKED_ASSERTION }),
  },
  // New accounts without a passkey: logged-in callers get 404.
  { route: 'POST /api/auth/reauthenticate/options', expect: loggedIn(404), freshUsers: true },
];

/** A new API key of the owner; its id. */
async function ownerKey({ app, owner }: Context): Promise<string> {
  const res = await request(app.getHttpServer())
    .post('/api/auth/api-keys')
    .set(owner.auth)
    .send({ name: 'matrix', scopes: ['movies:read'] });
  return res.body.id as string;
}

describe('access matrix', () => {
  let t: TestApp;
  let shared: Context;

  beforeAll(async () => {
    t = await createTestApp({ label: 'matrix', env: { MAIL_MAX_PER_IP: '100000' } });
    const make = fixtures(t.app);
    const [owner, other, admin] = await Promise.all([make.user(), make.user(), make.admin()]);
    shared = { app: t.app, owner, other, admin, make };
  });

  afterAll(() => t.close());

  it('can make a resource of every @Owned model (test/support/fixtures.ts)', () => {
    expect(resourcesWithoutFixture(ownedModels(t.app))).toEqual([]);
  });

  it('has exactly one row for every registered route', () => {
    const registered = registeredRoutes(t.app)
      .map((r) => r.route)
      .sort();
    const covered = ROWS.map((r) => r.route).sort();
    expect(covered).toEqual(registered);
  });

  it('expects 401 from anonymous callers on every route that is not deliberately public', () => {
    for (const { route, isPublic } of registeredRoutes(t.app)) {
      const row = ROWS.find((r) => r.route === route);
      if (!isPublic)
        expect({ route, anonymous: row?.expect.anonymous }).toEqual({ route, anonymous: 401 });
    }
  });

  describe.each(ROWS.map((row) => [row.route, row] as const))('%s', (_route, row) => {
    it.each(ACTORS)('as %s', async (actor) => {
      const ctx: Context = row.freshUsers
        ? {
            ...shared,
            owner: await shared.make.user(),
            other: await shared.make.user(),
            admin: await shared.make.newAdmin(shared.admin),
          }
        : shared;
      const params = row.params ? await row.params(ctx) : {};
      const [method, template] = row.route.split(' ');
      const path = template.replace(/:(\w+)/g, (_m, name: string) => params[name]);
      let req = request(t.app.getHttpServer())[method.toLowerCase() as 'get'](path);
      const who = { anonymous: undefined, user: ctx.owner, other: ctx.other, admin: ctx.admin }[
        actor
      ];
      if (who) req = req.set(who.auth);
      if (row.send) req = row.send(req, ctx, who);
      else if (row.body) req = req.send(row.body(ctx));
      const res = await req;
      expect({ actor, status: res.status }).toEqual({ actor, status: row.expect[actor] });
    });
  });
});

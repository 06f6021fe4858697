import { Types } from 'mongoose';
import request from 'supertest';

import { formatApiKey, parseApiKey } from '../src/auth/api-keys/api-key-format.js';
import { AuditRecorder } from '../src/auth/index.js';
import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';
import { connectionOf, expectUnchangedAfter } from './support/db.js';
import type { Fixtures } from './support/fixtures.js';
import { fixtures } from './support/fixtures.js';
import type { TestUser } from './support/users.js';
import { pollUntil } from './support/wait.js';

/** API keys (issue 25): life cycle, limits, the owner ceiling, and where a key may never appear. */

interface CreatedKey {
  id: string;
  prefix: string;
  key: string;
  scopes: string[];
  expiresAt: string;
}

const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

describe('API keys', () => {
  let t: TestApp;
  let make: Fixtures;
  let server: ReturnType<TestApp['app']['getHttpServer']>;
  const logs: string[] = [];
  /** Every key this file created: none may appear anywhere after its creation. */
  const issued: string[] = [];
  /** Every response body after creation (checked for keys at the end). */
  const answers: string[] = [];

  beforeAll(async () => {
    t = await createTestApp({
      label: 'api_keys',
      env: { LOG_LEVEL: 'debug', API_KEY_MAX_PER_USER: '3', AUDIT_FLUSH_INTERVAL_MS: '20' },
      logDestination: { write: (line: string) => void logs.push(line) },
    });
    server = t.app.getHttpServer();
    make = fixtures(t.app);
  });

  afterAll(() => t.close());

  const call = (
    method: 'get' | 'post' | 'patch' | 'delete',
    path: string,
    auth: Record<string, string>,
  ) =>
    request(server)
      [method](path)
      .set(auth)
      .then((res) => {
        answers.push(res.text);
        return res;
      });

  async function createKey(
    user: TestUser,
    body: { name?: string; scopes: string[]; expiresAt?: string },
  ): Promise<CreatedKey> {
    const res = await request(server)
      .post('/api/auth/api-keys')
      .set(user.auth)
      .send({ name: 'script', ...body })
      .expect(201);
    issued.push(res.body.key);
    return res.body as CreatedKey;
  }

  const keysOf = (userId: string) =>
    connectionOf(t.app)
      .collection('api_keys')
      .find({ user: new Types.ObjectId(userId) })
      .toArray();

  it('lives: created (shown once), listed without its secret, used, revoked, refused', async () => {
    const user = await make.user();
    const created = await createKey(user, {
      name: 'backup',
      scopes: ['account:read', 'movies:read'],
    });
    expect(created).toMatchObject({ name: 'backup', scopes: ['account:read', 'movies:read'] });
    expect(parseApiKey(created.key)?.id).toBe(created.id);
    expect(created.prefix).toBe(`gdk_${created.id}_`);
    const days = (Date.parse(created.expiresAt) - Date.now()) / 86_400_000;
    expect(Math.round(days)).toBe(90);

    const listed = await call('get', '/api/auth/api-keys', user.auth);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([
      expect.objectContaining({ id: created.id, name: 'backup', lastUsedAt: null }),
    ]);
    expect(listed.body[0]).not.toHaveProperty('key');

    const me = await call('get', '/api/users/me', bearer(created.key));
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(user.id);
    expect((await call('get', '/api/movies', bearer(created.key))).status).toBe(200);
    // JWTs keep working beside keys.
    expect((await call('get', '/api/users/me', user.auth)).status).toBe(200);

    const used = await call('get', '/api/auth/api-keys', user.auth);
    expect(used.body[0].lastUsedAt).not.toBeNull();

    expect((await call('delete', `/api/auth/api-keys/${created.id}`, user.auth)).status).toBe(204);
    const refused = await call('get', '/api/users/me', bearer(created.key));
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer');
    expect((await call('get', '/api/auth/api-keys', user.auth)).body).toEqual([]);
    expect(await keysOf(user.id)).toEqual([]);
    expect((await call('delete', `/api/auth/api-keys/${created.id}`, user.auth)).status).toBe(404);
  });

  it('refuses a key with a wrong checksum without a single database query', async () => {
    const user = await make.user();
    const { key } = await createKey(user, { scopes: ['account:read'] });
    const typo = key.slice(0, 20) + (key[20] === 'x' ? 'y' : 'x') + key.slice(21);
    // The setup's audit events (signup, login, key created) are written now, not by the
    // recorder's timer in the middle of the request below.
    await t.app.get(AuditRecorder).flush();
    const queries: string[] = [];
    const connection = connectionOf(t.app);
    connection.set('debug', (collection: string, method: string) => {
      queries.push(`${collection}.${method}`);
    });
    try {
      const res = await request(server).get('/api/users/me').set(bearer(typo));
      expect(res.status).toBe(401);
      expect(queries).toEqual([]);
      // The recorder works: a real key read is seen.
      await request(server)
        .get('/api/users/me')
        .set(bearer(formatApiKey('AAAAAAAAAAAA', 'B'.repeat(43))));
      expect(queries.length).toBeGreaterThan(0);
    } finally {
      connection.set('debug', false);
    }
  });

  it('refuses a key with the right id and checksum but a wrong secret, and an expired key', async () => {
    const user = await make.user();
    const good = await createKey(user, { scopes: ['account:read'] });
    const forged = formatApiKey(good.id, 'C'.repeat(43));
    expect((await call('get', '/api/users/me', bearer(forged))).status).toBe(401);

    const old = await createKey(user, { scopes: ['account:read'] });
    await connectionOf(t.app)
      .collection('api_keys')
      .updateOne({ _id: old.id as never }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await call('get', '/api/users/me', bearer(old.key))).status).toBe(401);
    // The right key still works.
    expect((await call('get', '/api/users/me', bearer(good.key))).status).toBe(200);
  });

  it('refuses creations that break a rule, storing nothing', async () => {
    const user = await make.user();
    const send = (body: object, auth: Record<string, string> = user.auth) =>
      request(server).post('/api/auth/api-keys').set(auth).send(body);
    // admin is for admins only.
    expect((await send({ name: 'x', scopes: ['admin'] })).status).toBe(403);
    expect((await send({ name: 'x', scopes: ['nope:read'] })).status).toBe(400);
    expect((await send({ name: 'x', scopes: [] })).status).toBe(400);
    const tooLate = new Date(Date.now() + 366 * 86_400_000).toISOString();
    expect((await send({ name: 'x', scopes: ['todos:read'], expiresAt: tooLate })).status).toBe(
      400,
    );
    const past = new Date(Date.now() - 60_000).toISOString();
    expect((await send({ name: 'x', scopes: ['todos:read'], expiresAt: past })).status).toBe(400);
    expect(await keysOf(user.id)).toEqual([]);

    // A key cannot make keys (nor list or revoke them).
    const first = await createKey(user, { scopes: ['todos:read', 'account:read'] });
    expect((await send({ name: 'x', scopes: ['todos:read'] }, bearer(first.key))).status).toBe(403);
    expect((await call('get', '/api/auth/api-keys', bearer(first.key))).status).toBe(403);
    expect((await call('delete', `/api/auth/api-keys/${first.id}`, bearer(first.key))).status).toBe(
      403,
    );

    // At most API_KEY_MAX_PER_USER (3 here).
    const later = new Date(Date.now() + 10 * 86_400_000).toISOString();
    await createKey(user, { scopes: ['todos:read'], expiresAt: later });
    await createKey(user, { scopes: ['todos:read'] });
    const fourth = await send({ name: 'x', scopes: ['todos:read'] });
    expect(fourth.status).toBe(409);
    expect(fourth.body.message).toMatch(/at most 3 API keys/);
    expect(await keysOf(user.id)).toHaveLength(3);
  });

  it('keeps exactly API_KEY_MAX_PER_USER keys when more creations than that run at once', async () => {
    const user = await make.user();
    // The limit is 3 here: six creations in parallel, none of which sees the others' keys first.
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        request(server)
          .post('/api/auth/api-keys')
          .set(user.auth)
          .send({ name: `parallel-${i}`, scopes: ['todos:read'] }),
      ),
    );
    for (const res of results) if (res.status === 201) issued.push(res.body.key);
    expect(results.map((res) => res.status).sort()).toEqual([201, 201, 201, 409, 409, 409]);
    const stored = await keysOf(user.id);
    expect(stored).toHaveLength(3);
    // The kept ones are the ones answered 201, settled (none left pending).
    expect(stored.map((key) => key._id).sort()).toEqual(
      results
        .filter((res) => res.status === 201)
        .map((res) => res.body.id)
        .sort(),
    );
    expect(stored.filter((key) => key.pending !== undefined)).toEqual([]);
    // They work, and the limit holds afterwards too.
    const listed = await call('get', '/api/auth/api-keys', user.auth);
    expect(listed.body).toHaveLength(3);
    const more = await request(server)
      .post('/api/auth/api-keys')
      .set(user.auth)
      .send({ name: 'one more', scopes: ['todos:read'] });
    expect(more.status).toBe(409);
    expect(await keysOf(user.id)).toHaveLength(3);
  });

  it('closes credential, factor, session and email routes to keys, whatever their scopes', async () => {
    const user = await make.user();
    const { key } = await createKey(user, {
      scopes: ['account:read', 'movies:write', 'books:write', 'todos:write', 'bucketlists:write'],
    });
    const closed: [string, string, object][] = [
      [
        'patch',
        '/api/auth/password',
        { currentPassword: user.password, newPassword: 'An0ther!pass' },
      ],
      ['post', '/api/auth/reauthenticate', { password: user.password }],
      ['post', '/api/auth/logout-all', {}],
      ['get', '/api/auth/sessions', {}],
      ['get', '/api/auth/mfa', {}],
      ['post', '/api/auth/mfa/totp', { password: user.password }],
      [
        'post',
        '/api/users/me/email',
        { newEmail: 'moved@example.com', currentPassword: user.password },
      ],
      ['delete', '/api/users/me', {}],
      ['patch', '/api/users/me', { name: 'Renamed' }],
    ];
    for (const [method, path, body] of closed) {
      const res = await request(server)[method as 'post'](path).set(bearer(key)).send(body);
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
      expect(res.headers['www-authenticate']).toMatch(/insufficient_scope/);
    }
    // Nothing changed: the password still logs in, the session list is as it was.
    await request(server)
      .post('/api/auth/login')
      .send({ email: user.email, password: user.password })
      .expect(200);
  });

  it('changes nothing with a key that lacks the write scope', async () => {
    const user = await make.user();
    const todo = await make.owned('Todo', user);
    const { id, key } = await createKey(user, { scopes: ['todos:read'] });
    // A first use writes "last used" (bookkeeping, at most once a minute): done before the snapshot.
    expect((await call('get', `/api/todos/${todo.id}`, bearer(key))).status).toBe(200);
    await pollUntil(
      () =>
        connectionOf(t.app)
          .collection('api_keys')
          .findOne({ _id: id as never }),
      (doc) => doc?.lastUsedAt instanceof Date,
      { timeoutMs: 5000, intervalMs: 20 },
    );
    const unchanged = await expectUnchangedAfter(t.app, ['todos', 'api_keys', 'users']);
    const refusals = [
      await request(server)
        .post('/api/todos')
        .set(bearer(key))
        .send({ title: 'x', due: '2030-01-01' }),
      await request(server).patch(`/api/todos/${todo.id}`).set(bearer(key)).send({ title: 'y' }),
      await request(server).delete(`/api/todos/${todo.id}`).set(bearer(key)),
      await request(server)
        .post('/api/auth/api-keys')
        .set(bearer(key))
        .send({ name: 'x', scopes: ['todos:write'] }),
    ];
    expect(refusals.map((res) => res.status)).toEqual([403, 403, 403, 403]);
    await unchanged();
    expect((await call('get', `/api/todos/${todo.id}`, bearer(key))).status).toBe(200);
  });

  describe('a key never exceeds its owner', () => {
    it('loses admin at once when its owner is demoted', async () => {
      const root = await make.admin();
      const admin = await make.newAdmin(root);
      const { key } = await createKey(admin, { scopes: ['admin'] });
      expect((await call('get', '/api/users', bearer(key))).status).toBe(200);
      await request(server)
        .patch(`/api/users/${admin.id}`)
        .set(root.auth)
        .send({ role: 'user' })
        .expect(200);
      expect((await call('get', '/api/users', bearer(key))).status).toBe(403);
    });

    it('stops when its owner is disabled, and comes back only when enabled', async () => {
      const root = await make.admin();
      const user = await make.user();
      const { key } = await createKey(user, { scopes: ['account:read'] });
      expect((await call('get', '/api/users/me', bearer(key))).status).toBe(200);
      await request(server)
        .patch(`/api/users/${user.id}`)
        .set(root.auth)
        .send({ active: false })
        .expect(200);
      expect((await call('get', '/api/users/me', bearer(key))).status).toBe(401);
    });

    it('dies with its owner: deleting the user deletes the keys', async () => {
      const root = await make.admin();
      const user = await make.user();
      const { key } = await createKey(user, { scopes: ['account:read'] });
      expect((await call('get', '/api/users/me', bearer(key))).status).toBe(200);
      await request(server).delete(`/api/users/${user.id}`).set(root.auth).expect(204);
      expect((await call('get', '/api/users/me', bearer(key))).status).toBe(401);
      expect(await keysOf(user.id)).toEqual([]);
    });

    it("reaches only its owner's resources", async () => {
      const [owner, other] = await Promise.all([make.user(), make.user()]);
      const list = await make.owned('Bucketlist', other);
      const { key } = await createKey(owner, { scopes: ['bucketlists:read', 'bucketlists:write'] });
      expect((await call('get', `/api/bucketlists/${list.id}`, bearer(key))).status).toBe(404);
      expect((await call('delete', `/api/bucketlists/${list.id}`, bearer(key))).status).toBe(404);
    });

    it("acts as an admin only with the admin scope: an admin's todos key reaches only the admin's own todos", async () => {
      const root = await make.admin();
      const admin = await make.newAdmin(root);
      const other = await make.user();
      const todo = await make.owned('Todo', other);
      const { key } = await createKey(admin, { scopes: ['todos:read', 'todos:write'] });
      const patch = await request(server)
        .patch(`/api/todos/${todo.id}`)
        .set(bearer(key))
        .send({ title: 'changed by a key' });
      expect(patch.status).toBe(403);
      expect((await call('delete', `/api/todos/${todo.id}`, bearer(key))).status).toBe(403);
      expect((await call('patch', `/api/todos/${todo.id}/done`, bearer(key))).status).toBe(403);
      const list = await call('get', '/api/todos', bearer(key));
      expect(list.status).toBe(200);
      const ids = (list.body as { items: { id: string }[] }).items.map((i) => i.id);
      expect(ids).not.toContain(todo.id);
      // The same admin with a token still reaches everyone's todos.
      expect((await call('get', `/api/todos/${todo.id}`, admin.auth)).status).toBe(200);
      const { key: adminKey } = await createKey(admin, { scopes: ['todos:read', 'admin'] });
      expect((await call('get', `/api/todos/${todo.id}`, bearer(adminKey))).status).toBe(200);
    });
  });

  it("lets admins list and revoke any user's keys", async () => {
    const root = await make.admin();
    const user = await make.user();
    const created = await createKey(user, { scopes: ['account:read'] });
    const listed = await call('get', `/api/users/${user.id}/api-keys`, root.auth);
    expect(listed.status).toBe(200);
    expect(listed.body.map((k: { id: string }) => k.id)).toEqual([created.id]);
    expect(
      (await call('delete', `/api/users/${user.id}/api-keys/${created.id}`, root.auth)).status,
    ).toBe(204);
    expect((await call('get', '/api/users/me', bearer(created.key))).status).toBe(401);
  });

  it('never shows a key after its creation: not in answers, log lines or the database', async () => {
    expect(issued.length).toBeGreaterThan(5);
    const db = connectionOf(t.app).db;
    if (!db) throw new Error('no database');
    const dump: string[] = [];
    for (const { name } of await db.listCollections().toArray()) {
      dump.push(JSON.stringify(await db.collection(name).find().toArray()));
    }
    const everything = { answers: answers.join('\n'), logs: logs.join(''), db: dump.join('\n') };
    expect(everything.logs.length).toBeGreaterThan(0);
    for (const key of issued) {
      const secret = parseApiKey(key)?.secret ?? key;
      for (const [where, text] of Object.entries(everything)) {
        expect({ where, hasKey: text.includes(secret) }).toEqual({ where, hasKey: false });
      }
    }
  });
});

describe('API key limits', () => {
  let t: TestApp;
  let make: Fixtures;

  beforeAll(async () => {
    t = await createTestApp({
      label: 'api_key_limits',
      env: { API_KEY_RATE_LIMIT: '3', LOGIN_MAX_FAILURES_PER_IP: '3' },
    });
    make = fixtures(t.app);
  });

  afterAll(() => t.close());

  it('limits each key to API_KEY_RATE_LIMIT requests a minute (429 with Retry-After)', async () => {
    const user = await make.user();
    const create = () =>
      request(t.app.getHttpServer())
        .post('/api/auth/api-keys')
        .set(user.auth)
        .send({ name: 'busy', scopes: ['account:read'] })
        .expect(201);
    const { key } = (await create()).body as CreatedKey;
    const use = (k: string) => request(t.app.getHttpServer()).get('/api/users/me').set(bearer(k));
    for (let i = 0; i < 3; i++) expect((await use(key)).status).toBe(200);
    const limited = await use(key);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Per key: another key of the same owner is not affected, nor the owner's access token.
    const { key: second } = (await create()).body as CreatedKey;
    expect((await use(second)).status).toBe(200);
    expect((await request(t.app.getHttpServer()).get('/api/users/me').set(user.auth)).status).toBe(
      200,
    );
  });

  it('counts failed key attempts against the per-IP login limit', async () => {
    const user = await make.user();
    const wrong = formatApiKey('ZZZZZZZZZZZZ', 'D'.repeat(43));
    const use = () => request(t.app.getHttpServer()).get('/api/users/me').set(bearer(wrong));
    for (let i = 0; i < 3; i++) expect((await use()).status).toBe(401);
    const refused = await use();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // The same address's logins are held back too.
    const login = await request(t.app.getHttpServer())
      .post('/api/auth/login')
      .send({ email: user.email, password: 'wrong-password' });
    expect(login.status).toBe(429);
  });
});

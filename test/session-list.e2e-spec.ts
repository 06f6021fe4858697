import request from 'supertest';

import type { TestApp } from './support/app.js';
import { createTestApp, testDatabaseUri } from './support/app.js';
import { connectionOf } from './support/db.js';
import { decodePayload } from './support/tokens.js';
import type { TestUser } from './support/users.js';
import { login, loginAdmin, signupAndLogin } from './support/users.js';
import { pollUntil } from './support/wait.js';

type App = TestApp['app'];

interface SessionItem {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  ip: string | null;
  userAgent: string | null;
  current: boolean;
}

const sidOf = (user: TestUser): string => decodePayload(user.token).sid as string;

const listSessions = async (app: App, user: TestUser): Promise<SessionItem[]> => {
  const res = await request(app.getHttpServer()).get('/api/auth/sessions').set(user.auth);
  expect(res.status).toBe(200);
  return res.body.items as SessionItem[];
};

describe('sessions people can see', () => {
  let t: TestApp;
  let server: ReturnType<App['getHttpServer']>;

  beforeAll(async () => {
    t = await createTestApp({ label: 'session_list' });
    server = t.app.getHttpServer();
  });

  afterAll(() => t.close());

  it('lists your sessions with IP and user agent at login, marking the current one', async () => {
    const first = await signupAndLogin(t.app);
    const res = await request(server)
      .post('/api/auth/login')
      .set('User-Agent', 'PhoneApp/2.1')
      .send({ email: first.email, password: first.password })
      .expect(200);
    const second = { ...first, token: res.body.accessToken as string };
    second.auth = { Authorization: `Bearer ${second.token}` };

    const items = await listSessions(t.app, second);
    expect(items).toHaveLength(2);
    const mine = items.find((s) => s.id === sidOf(second));
    const other = items.find((s) => s.id === sidOf(first));
    expect(mine).toMatchObject({ current: true, userAgent: 'PhoneApp/2.1' });
    expect(mine?.ip).toEqual(expect.stringMatching(/127\.0\.0\.1|::1/));
    expect(other).toMatchObject({ current: false });
    // Newest first.
    expect(items[0].id).toBe(sidOf(second));
    expect(JSON.stringify(items)).not.toMatch(/refresh|hash/i);
  });

  it('ends one of your sessions: its refresh and access tokens stop, the others go on', async () => {
    const first = await signupAndLogin(t.app);
    const second = await login(t.app, first.email, first.password);
    await request(server).get('/api/users/me').set(first.auth).expect(200);
    await request(server)
      .delete(`/api/auth/sessions/${sidOf(first)}`)
      .set(second.auth)
      .expect(204);
    await request(server).get('/api/users/me').set(first.auth).expect(401);
    await request(server)
      .post('/api/auth/refresh')
      .send({ refreshToken: first.refreshToken })
      .expect(401);
    await request(server).get('/api/users/me').set(second.auth).expect(200);
    expect((await listSessions(t.app, second)).map((s) => s.id)).toEqual([sidOf(second)]);
  });

  it("another user's session id answers 404 (never 403) and that session lives on", async () => {
    const victim = await signupAndLogin(t.app);
    const attacker = await signupAndLogin(t.app);
    const res = await request(server)
      .delete(`/api/auth/sessions/${sidOf(victim)}`)
      .set(attacker.auth)
      .expect(404);
    expect(res.body).toMatchObject({ statusCode: 404 });
    await request(server).delete('/api/auth/sessions/not-a-session').set(attacker.auth).expect(404);
    await request(server).get('/api/users/me').set(victim.auth).expect(200);
    expect((await listSessions(t.app, victim)).map((s) => s.id)).toEqual([sidOf(victim)]);
    // Nor does the attacker see it.
    expect((await listSessions(t.app, attacker)).map((s) => s.id)).toEqual([sidOf(attacker)]);
  });

  it('records "last used" on the first request, then not again within the minute', async () => {
    const user = await signupAndLogin(t.app);
    const activity = connectionOf(t.app).collection<{ _id: string; lastUsedAt: Date }>(
      'session_activity',
    );
    await request(server).get('/api/users/me').set(user.auth).expect(200);
    const firstWrite = await activity.findOne({ _id: sidOf(user) });
    expect(firstWrite?.lastUsedAt).toBeInstanceOf(Date);
    // Moved back by hand: a second write within the minute would overwrite it.
    const marker = new Date('2020-01-01T00:00:00Z');
    await activity.updateOne({ _id: sidOf(user) }, { $set: { lastUsedAt: marker } });
    await request(server).get('/api/users/me').set(user.auth).expect(200);
    expect((await activity.findOne({ _id: sidOf(user) }))?.lastUsedAt).toEqual(marker);
    const [item] = await listSessions(t.app, user);
    expect(item.lastUsedAt).toBe(marker.toISOString());
  });

  it('needs a token', async () => {
    await request(server).get('/api/auth/sessions').expect(401);
    await request(server).delete('/api/auth/sessions/x').expect(401);
  });

  describe('admin', () => {
    it("lists and ends any user's sessions; 404 for a session of someone else", async () => {
      const admin = await loginAdmin(t.app);
      const user = await signupAndLogin(t.app);
      const other = await signupAndLogin(t.app);
      const list = await request(server)
        .get(`/api/users/${user.id}/sessions`)
        .set(admin.auth)
        .expect(200);
      expect(list.body.items.map((s: SessionItem) => s.id)).toEqual([sidOf(user)]);
      expect(list.body.total).toBe(1);
      await request(server)
        .delete(`/api/users/${user.id}/sessions/${sidOf(other)}`)
        .set(admin.auth)
        .expect(404);
      await request(server).get('/api/users/me').set(other.auth).expect(200);
      await request(server)
        .delete(`/api/users/${user.id}/sessions/${sidOf(user)}`)
        .set(admin.auth)
        .expect(204);
      await request(server).get('/api/users/me').set(user.auth).expect(401);
    });

    it('404 for an unknown user, 400 for a bad id, 403 for a non-admin', async () => {
      const admin = await loginAdmin(t.app);
      const user = await signupAndLogin(t.app);
      await request(server)
        .get('/api/users/0123456789abcdef01234567/sessions')
        .set(admin.auth)
        .expect(404);
      await request(server).get('/api/users/nope/sessions').set(admin.auth).expect(400);
      await request(server).get(`/api/users/${admin.id}/sessions`).set(user.auth).expect(403);
      await request(server)
        .delete(`/api/users/${admin.id}/sessions/${sidOf(admin)}`)
        .set(user.auth)
        .expect(403);
      await request(server).get('/api/users/me').set(admin.auth).expect(200);
    });
  });
});

describe('ending a session across instances', () => {
  const TTL_MS = 1000;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    const mongoUri = testDatabaseUri('session_list_multi');
    const env = { SESSION_CACHE_TTL_MS: String(TTL_MS) };
    a = await createTestApp({ mongoUri, env });
    b = await createTestApp({ mongoUri, env });
  });

  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('an ended session stops on the other instance within SESSION_CACHE_TTL_MS', async () => {
    const user = await signupAndLogin(a.app);
    const other = await login(a.app, user.email, user.password);
    const me = () => request(b.app.getHttpServer()).get('/api/users/me').set(user.auth);
    expect((await me()).status).toBe(200); // B caches the answer
    await request(a.app.getHttpServer())
      .delete(`/api/auth/sessions/${sidOf(user)}`)
      .set(other.auth)
      .expect(204);
    const status = await pollUntil(
      async () => (await me()).status,
      (s) => s === 401,
      { timeoutMs: TTL_MS + 1500 },
    );
    expect(status).toBe(401);
  });
});

import request from 'supertest';

import type { TestApp } from '../support/app.js';
import { createTestApp } from '../support/app.js';
import { expectUnchangedAfter } from '../support/db.js';
import type { TestUser } from '../support/users.js';
import { signupAndLogin } from '../support/users.js';

/**
 * Cross-origin reads and writes from a page on a foreign origin: the browser only lets it see an
 * answer (or send a preflighted write) when we echo its origin, which only configured origins get.
 */
const TRUSTED = 'https://app.example.com';
const FOREIGN = 'https://evil.example';

describe('CORS', () => {
  let t: TestApp;
  let user: TestUser;

  beforeAll(async () => {
    t = await createTestApp({
      label: 'sec_cors',
      env: { CORS_ORIGINS: `${TRUSTED}, https://admin.example.com` },
    });
    user = await signupAndLogin(t.app);
  });

  afterAll(() => t.close());

  const preflight = (origin: string) =>
    request(t.app.getHttpServer())
      .options('/api/users/me')
      .set('Origin', origin)
      .set('Access-Control-Request-Method', 'PATCH')
      .set('Access-Control-Request-Headers', 'authorization,content-type');

  it('a foreign origin reading a private resource gets no Access-Control-Allow-Origin', async () => {
    const res = await request(t.app.getHttpServer())
      .get('/api/users/me')
      .set(user.auth)
      .set('Origin', FOREIGN);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('a foreign origin preflighting a write is not allowed, and nothing changes', async () => {
    const unchanged = await expectUnchangedAfter(t.app);
    const res = await preflight(FOREIGN);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    await unchanged();
  });

  it('an origin that merely contains a trusted one is foreign', async () => {
    for (const origin of [`${TRUSTED}.evil.example`, 'https://evil-app.example.com', 'null']) {
      const res = await preflight(origin);
      expect({ origin, allowed: res.headers['access-control-allow-origin'] }).toEqual({
        origin,
        allowed: undefined,
      });
    }
  });

  it('a configured origin is echoed, without credentials', async () => {
    const res = await preflight(TRUSTED);
    expect(res.status).toBeLessThan(300);
    expect(res.headers['access-control-allow-origin']).toBe(TRUSTED);
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    // The API's own methods, so a trusted front end can update and delete too.
    expect(res.headers['access-control-allow-methods']).toMatch(/PATCH/);
    const read = await request(t.app.getHttpServer())
      .get('/api/users/me')
      .set(user.auth)
      .set('Origin', TRUSTED)
      .expect(200);
    expect(read.headers['access-control-allow-origin']).toBe(TRUSTED);
    expect(read.headers.vary).toMatch(/Origin/i);
  });
});

describe('CORS without CORS_ORIGINS', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ label: 'sec_cors_none' });
  });

  afterAll(() => t.close());

  it('allows no cross-origin access at all', async () => {
    const res = await request(t.app.getHttpServer())
      .options('/api/movies')
      .set('Origin', TRUSTED)
      .set('Access-Control-Request-Method', 'POST');
    // No CORS layer at all: the preflight is an unknown route.
    expect(res.status).toBe(404);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['access-control-allow-methods']).toBeUndefined();
    const read = await request(t.app.getHttpServer()).get('/api/movies').set('Origin', TRUSTED);
    expect(read.headers['access-control-allow-origin']).toBeUndefined();
  });
});

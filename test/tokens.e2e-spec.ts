import request from 'supertest';

import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';
import { decodeHeader, decodePayload, forgeToken, unsignedToken } from './support/tokens.js';
import type { TestUser } from './support/users.js';
import { loginAdmin, signupAndLogin } from './support/users.js';

describe('access tokens', () => {
  let t: TestApp;
  let server: ReturnType<TestApp['app']['getHttpServer']>;
  let user: TestUser;

  beforeAll(async () => {
    t = await createTestApp({ label: 'tokens' });
    server = t.app.getHttpServer();
    user = await signupAndLogin(t.app);
  });

  afterAll(() => t.close());

  const me = (authorization?: string) => {
    const req = request(server).get('/api/users/me');
    return authorization === undefined ? req : req.set('Authorization', authorization);
  };

  async function expect401(authorization?: string): Promise<void> {
    const res = await me(authorization);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.body).toMatchObject({ statusCode: 401 });
  }

  it('carries sub, sid, iat, exp, iss and aud', () => {
    const claims = decodePayload(user.token);
    expect(claims).toMatchObject({ sub: user.id, iss: 'guardhouse', aud: 'guardhouse-api' });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(900);
  });

  it('is typed at+jwt in its header (RFC 9068)', () => {
    expect(decodeHeader(user.token)).toMatchObject({ alg: 'HS256', typ: 'at+jwt' });
  });

  it('accepts the long form of the type, application/at+jwt', async () => {
    const { sid } = decodePayload(user.token);
    await me(`Bearer ${forgeToken({ sub: user.id, sid }, { typ: 'application/at+jwt' })}`).expect(
      200,
    );
  });

  it('refuses a correctly signed token of another type', () =>
    expect401(
      `Bearer ${forgeToken({ sub: user.id, sid: decodePayload(user.token).sid }, { typ: 'JWT' })}`,
    ));

  it('refuses a correctly signed token without exp', () =>
    expect401(
      `Bearer ${forgeToken({ sub: user.id, sid: decodePayload(user.token).sid }, { expiresIn: undefined })}`,
    ));

  it('refuses a correctly signed token without iat', () =>
    expect401(
      `Bearer ${forgeToken({ sub: user.id, sid: decodePayload(user.token).sid }, { noTimestamp: true })}`,
    ));

  it('accepts a valid token', async () => {
    await me(`Bearer ${user.token}`).expect(200);
  });

  it('refuses a missing token', () => expect401());
  it('refuses a garbled token', () => expect401('Bearer not.a.jwt'));
  it('refuses a token that is not a bearer token', () => expect401(`Basic ${user.token}`));

  it('refuses a token signed with another secret', () =>
    expect401(
      `Bearer ${forgeToken({ sub: user.id }, { secret: 'another-secret-of-enough-length-0123456789' })}`,
    ));

  it('refuses an unsigned token (alg: none)', () =>
    expect401(`Bearer ${unsignedToken({ sub: user.id })}`));

  it('refuses a token with a tampered payload', () => {
    const [header, , signature] = user.token.split('.');
    const payload = Buffer.from(
      JSON.stringify({ ...decodePayload(user.token), sub: '0'.repeat(24) }),
    ).toString('base64url');
    return expect401(`Bearer ${header}.${payload}.${signature}`);
  });

  it('refuses an expired token', () =>
    expect401(
      `Bearer ${forgeToken({ sub: user.id, iat: Math.floor(Date.now() / 1000) - 3600 }, { expiresIn: 60 })}`,
    ));

  it('refuses a token of another issuer', () =>
    expect401(`Bearer ${forgeToken({ sub: user.id }, { issuer: 'someone-else' })}`));

  it('refuses a token for another audience', () =>
    expect401(`Bearer ${forgeToken({ sub: user.id }, { audience: 'another-api' })}`));

  it('refuses a token signed with another HMAC algorithm', () =>
    expect401(`Bearer ${forgeToken({ sub: user.id }, { algorithm: 'HS512' })}`));

  it('refuses a token whose subject is not a user', () =>
    expect401(
      `Bearer ${forgeToken({ sub: '0123456789abcdef01234567', sid: decodePayload(user.token).sid })}`,
    ));

  it('refuses a correctly signed token without a session id', () =>
    expect401(`Bearer ${forgeToken({ sub: user.id })}`));

  it('refuses a correctly signed token whose session belongs to someone else', async () => {
    const other = await signupAndLogin(t.app);
    await expect401(`Bearer ${forgeToken({ sub: user.id, sid: decodePayload(other.token).sid })}`);
  });

  it('ignores a token in the query string', async () => {
    await request(server).get(`/api/users/me?access_token=${user.token}`).expect(401);
  });

  it('answers 403 for a disabled user and 401 once the user is deleted', async () => {
    const admin = await loginAdmin(t.app);
    const victim = await signupAndLogin(t.app);
    await request(server)
      .patch(`/api/users/${victim.id}`)
      .set(admin.auth)
      .send({ active: false })
      .expect(200);
    const disabled = await me(`Bearer ${victim.token}`);
    expect(disabled.status).toBe(403);
    await request(server).delete(`/api/users/${victim.id}`).set(admin.auth).expect(204);
    await expect401(`Bearer ${victim.token}`);
  });

  it('takes the role from the database, not the token: a demoted admin loses access at once', async () => {
    const admin = await loginAdmin(t.app);
    const promoted = await signupAndLogin(t.app);
    await request(server)
      .patch(`/api/users/${promoted.id}`)
      .set(admin.auth)
      .send({ role: 'admin' })
      .expect(200);
    await request(server).get('/api/users').set(promoted.auth).expect(200);
    await request(server)
      .patch(`/api/users/${promoted.id}`)
      .set(admin.auth)
      .send({ role: 'user' })
      .expect(200);
    await request(server).get('/api/users').set(promoted.auth).expect(403);
  });

  it('answers concurrent requests carrying different tokens, each with its own user', async () => {
    // Fresh logins: sessions no request has read yet, so each check waits on the database while
    // the others start theirs.
    const other = await signupAndLogin(t.app);
    const callers = [user, other, user, other, user, other, user, other];
    const tokens = [];
    for (const caller of callers) {
      const res = await request(server)
        .post('/api/auth/login')
        .send({ email: caller.email, password: caller.password })
        .expect(200);
      tokens.push(String(res.body.accessToken));
    }
    const answers = await Promise.all(tokens.map((token) => me(`Bearer ${token}`)));
    expect(answers.map((answer) => answer.status)).toEqual(callers.map(() => 200));
    expect(answers.map((answer) => answer.body.id)).toEqual(callers.map((caller) => caller.id));
  });

  it('ignores a role claim forged into a valid token', async () => {
    const { sid } = decodePayload(user.token);
    const token = forgeToken({ sub: user.id, sid, role: 'admin' });
    await request(server).get('/api/users').set('Authorization', `Bearer ${token}`).expect(403);
  });
});

describe('two apps in one process, each with its own signing secret', () => {
  let first: TestApp;
  let second: TestApp;
  let firstUser: TestUser;
  let secondUser: TestUser;
  let secondOpen = true;

  beforeAll(async () => {
    first = await createTestApp({
      label: 'tokens_first',
      env: { JWT_SECRET: 'first-app-secret-'.padEnd(48, 'a') },
    });
    second = await createTestApp({
      label: 'tokens_second',
      env: { JWT_SECRET: 'second-app-secret-'.padEnd(48, 'b') },
    });
    firstUser = await signupAndLogin(first.app);
    secondUser = await signupAndLogin(second.app);
  });

  afterAll(async () => {
    if (secondOpen) await second.close();
    await first.close();
  });

  const me = (app: TestApp, token: string) =>
    request(app.app.getHttpServer()).get('/api/users/me').set('Authorization', `Bearer ${token}`);

  it("authenticates each app's requests with its own keys and refuses the other app's tokens", async () => {
    // passport keeps one registry per process: a strategy registered by name there is replaced
    // by the next app's, which then verified every app's tokens with its own secret.
    expect((await me(first, firstUser.token).expect(200)).body.id).toBe(firstUser.id);
    expect((await me(second, secondUser.token).expect(200)).body.id).toBe(secondUser.id);
    await me(first, secondUser.token).expect(401);
    await me(second, firstUser.token).expect(401);
  });

  it('keeps authenticating after the other app has closed', async () => {
    secondOpen = false;
    await second.close();
    expect((await me(first, firstUser.token).expect(200)).body.id).toBe(firstUser.id);
    await me(first, secondUser.token).expect(401);
  });
});

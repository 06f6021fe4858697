import { createHash, randomBytes } from 'node:crypto';

import { Types } from 'mongoose';
import type { Response } from 'supertest';
import request from 'supertest';

import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';
import { connectionOf } from './support/db.js';
import { freePort } from './support/ferretdb.mjs';
import type { Fixtures } from './support/fixtures.js';
import { fixtures } from './support/fixtures.js';
import type { TestSmtpServer } from './support/mail.js';
import { mailIdle, startSmtpServer, tokenFromLatest } from './support/mail.js';
import { codeAt, enrolledUser } from './support/mfa.js';
import type { TestProvider } from './support/oidc-provider.js';
import { CookieClient, signInAtProvider, startTestProvider } from './support/oidc-provider.js';
import { registerPasskey } from './support/passkeys.js';
import { decodePayload } from './support/tokens.js';
import type { TestUser } from './support/users.js';
import { STRONG_PASSWORD } from './support/users.js';
import { pollUntil } from './support/wait.js';
import { TEST_ORIGIN, TEST_RP_ID } from './support/webauthn.js';

const API = 'http://api.guardhouse.test';
const CALLBACK = `${API}/api/auth/oidc/testop/callback`;
const RETURN = 'https://app.guardhouse.test/signed-in';
const ACCOUNT_PAGE = 'https://app.guardhouse.test/account';
const CLIENT = { clientId: 'guardhouse', clientSecret: 'test-client-secret-0123456789abcdef' };

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
/** The front end's verifier (kept in sessionStorage by a browser) and the challenge it sends. */
const VERIFIER = randomBytes(32).toString('base64url');
const challengeOf = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');
const CHALLENGE = challengeOf(VERIFIER);
let counter = 0;
const person = (label: string) => `${label}-${Date.now().toString(36)}-${counter++}`;

/** The fragment's parameters of a redirect to the front end. */
function fragment(location: string | undefined): Record<string, string> {
  expect(location).toBeDefined();
  const url = new URL(location ?? '');
  return Object.fromEntries(new URLSearchParams(url.hash.slice(1)));
}

describe('sign-in with an OpenID Connect provider', () => {
  let op: TestProvider;
  let t: TestApp;
  let server: ReturnType<TestApp['app']['getHttpServer']>;
  let make: Fixtures;
  let smtp: TestSmtpServer;
  /** The app's log lines: a refusal logs why, which the attack tests check. */
  const logs: string[] = [];

  beforeAll(async () => {
    op = await startTestProvider([{ ...CLIENT, redirectUri: CALLBACK }]);
    smtp = await startSmtpServer();
    // A provider nobody answers for: nothing listens on the port.
    const down = `http://127.0.0.1:${await freePort()}`;
    t = await createTestApp({
      label: 'oidc',
      env: {
        PUBLIC_URL: API,
        SMTP_URL: smtp.url,
        OIDC_PROVIDERS: JSON.stringify([
          { id: 'testop', name: 'Test provider', issuer: op.issuer, ...CLIENT },
          { id: 'down', name: 'Down', issuer: down, ...CLIENT },
        ]),
        OIDC_REDIRECT_ALLOWLIST: `${RETURN},${ACCOUNT_PAGE}`,
        OIDC_ALLOW_INSECURE_ISSUERS: 'true',
        // The software authenticator's origin (test/support/webauthn.ts): passkeys as a way in.
        WEBAUTHN_RP_ID: TEST_RP_ID,
        WEBAUTHN_ORIGINS: TEST_ORIGIN,
        LOG_LEVEL: 'warn',
      },
      logDestination: { write: (line: string) => void logs.push(line) },
    });
    server = t.app.getHttpServer();
    make = fixtures(t.app);
  });

  /** Whether the app logged a refusal matching `pattern` since the test began. */
  const loggedSince = (count: number, pattern: RegExp) =>
    logs.slice(count).some((line) => pattern.test(line));

  afterAll(async () => {
    await t.close();
    await op.close();
    await smtp.close();
  });

  const db = () => connectionOf(t.app);
  const count = async () => ({
    users: await db().collection('users').countDocuments(),
    identities: await db().collection('identities').countDocuments(),
    sessions: await db().collection('sessions').countDocuments(),
    codes: await db().collection('oidc_login_codes').countDocuments(),
  });

  interface Flow {
    location: string;
    cookie: string;
    state: string;
  }

  const start = async (redirect = RETURN, challenge = CHALLENGE): Promise<Flow> => {
    const res = await request(server)
      .get('/api/auth/oidc/testop/start')
      .query({ redirect, challenge })
      .expect(302);
    const location = res.headers.location;
    const setCookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
    const cookie = setCookie
      .map((line) => line.split(';')[0])
      .find((c) => c.startsWith('gh_oidc='));
    expect(cookie).toBeDefined();
    return {
      location,
      cookie: cookie ?? '',
      state: new URL(location).searchParams.get('state') ?? '',
    };
  };

  /** The provider's login and consent as `accountId`: the callback URL it sends the browser to. */
  const atProvider = (flow: Flow, accountId: string) =>
    signInAtProvider(new CookieClient(), flow.location, accountId, CALLBACK);

  const callback = (url: string, cookie?: string): Promise<Response> => {
    const target = new URL(url);
    const req = request(server).get(target.pathname + target.search);
    return (cookie ? req.set('Cookie', cookie) : req).expect(302);
  };

  /** A whole sign-in: start, the provider's pages, the callback; the fragment it lands with. */
  const signIn = async (accountId: string, redirect = RETURN, challenge = CHALLENGE) => {
    const flow = await start(redirect, challenge);
    const res = await callback(await atProvider(flow, accountId), flow.cookie);
    expect(res.headers.location.split('#')[0]).toBe(redirect);
    return fragment(res.headers.location);
  };

  const exchange = (code: string, verifier = VERIFIER) =>
    request(server).post('/api/auth/oidc/exchange').send({ code, verifier });

  const signedIn = async (code: string | undefined, verifier = VERIFIER) => {
    const res = await exchange(code ?? '', verifier).expect(200);
    const auth = { Authorization: `Bearer ${res.body.accessToken as string}` };
    const me = await request(server).get('/api/users/me').set(auth).expect(200);
    return {
      body: res.body as Record<string, unknown>,
      me: me.body as Record<string, unknown>,
      auth,
    };
  };

  const newPerson = (emailVerified = true, email?: string) => {
    const id = person('p');
    op.people.set(id, { email: email ?? `${id}@example.com`, emailVerified, name: 'Pat Provider' });
    return id;
  };

  const verifyLocally = (email: string) =>
    db()
      .collection('users')
      .updateOne({ email }, { $set: { emailVerified: true } });

  it('lists the providers for front ends', async () => {
    const res = await request(server).get('/api/auth/providers').expect(200);
    expect(res.body).toEqual([
      { id: 'testop', name: 'Test provider', startUrl: `${API}/api/auth/oidc/testop/start` },
      { id: 'down', name: 'Down', startUrl: `${API}/api/auth/oidc/down/start` },
    ]);
  });

  it('answers 503 when the provider cannot be reached, and stores nothing', async () => {
    const transactions = await db().collection('oidc_transactions').countDocuments();
    const res = await request(server)
      .get('/api/auth/oidc/down/start')
      .query({ redirect: RETURN, challenge: CHALLENGE })
      .expect(503);
    expect(res.body.message).toMatch(/provider cannot be reached/);
    expect(await db().collection('oidc_transactions').countDocuments()).toBe(transactions);
  });

  it('sends the browser to the provider with PKCE (S256), state and nonce', async () => {
    const flow = await start();
    const url = new URL(flow.location);
    expect(url.origin).toBe(op.issuer);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: CLIENT.clientId,
      redirect_uri: CALLBACK,
      response_type: 'code',
      code_challenge_method: 'S256',
      scope: expect.stringContaining('openid'),
      nonce: expect.stringMatching(/.{20,}/),
      state: expect.stringMatching(/.{20,}/),
    });
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The state is stored hashed, with the return URL.
    const stored = await db()
      .collection('oidc_transactions')
      .findOne({ _id: sha256(flow.state) } as never);
    expect(stored).toMatchObject({ redirect: RETURN, purpose: 'login' });
  });

  describe('accounts', () => {
    it('creates an account for a new person with a verified email (no password)', async () => {
      const id = newPerson();
      const email = op.people.get(id)?.email ?? '';
      const before = await count();
      const result = await signIn(id);
      expect(Object.keys(result)).toEqual(['code']);
      const { body, me, auth } = await signedIn(result.code);
      expect(me).toMatchObject({ email, emailVerified: true, name: 'Pat Provider' });
      expect(decodePayload(body.accessToken as string).amr).toEqual(['fed']);
      expect(await count()).toMatchObject({
        users: before.users + 1,
        identities: before.identities + 1,
        sessions: before.sessions + 1,
      });
      const linked = await request(server).get('/api/auth/identities').set(auth).expect(200);
      expect(linked.body).toEqual([
        { provider: 'testop', name: 'Test provider', email, linkedAt: expect.any(String) },
      ]);
      // No password: a password login is refused like any wrong one, and so is every check of
      // a current password (a clear 400, never a 500); the password reset sets one.
      await request(server)
        .post('/api/auth/login')
        .send({ email, password: STRONG_PASSWORD })
        .expect(401);
      await request(server)
        .patch('/api/auth/password')
        .set(auth)
        .send({ currentPassword: STRONG_PASSWORD, newPassword: 'An0ther!pass' })
        .expect(400);
      await request(server)
        .post('/api/auth/reauthenticate')
        .set(auth)
        .send({ password: STRONG_PASSWORD })
        .expect(400);
    });

    it('lets an account made by a provider set a password through the reset', async () => {
      const id = newPerson();
      const email = op.people.get(id)?.email ?? '';
      await signedIn((await signIn(id)).code);
      await request(server).post('/api/auth/password/forgot').send({ email }).expect(202);
      await mailIdle(t.app);
      const token = tokenFromLatest(smtp, email, /reset your password/);
      await request(server)
        .post('/api/auth/password/reset')
        .send({ token, newPassword: 'An0ther!pass' })
        .expect(204);
      const res = await request(server)
        .post('/api/auth/login')
        .send({ email, password: 'An0ther!pass' })
        .expect(200);
      expect(decodePayload(res.body.accessToken as string).amr).toEqual(['pwd']);
    });

    it('signs a returning identity into the same account, also after its email changed there', async () => {
      const id = newPerson();
      const first = await signedIn((await signIn(id)).code);
      const before = await count();
      op.people.set(id, { email: `${person('moved')}@example.com`, emailVerified: false });
      const again = await signedIn((await signIn(id)).code);
      expect(again.me.id).toBe(first.me.id);
      expect(await count()).toMatchObject({ users: before.users, identities: before.identities });
    });

    it('links a verified provider email to the verified local account with that email', async () => {
      const local = await make.user();
      await verifyLocally(local.email);
      const id = newPerson(true, local.email);
      const before = await count();
      const { me, body } = await signedIn((await signIn(id)).code);
      expect(me.id).toBe(local.id);
      expect(decodePayload(body.accessToken as string).amr).toEqual(['fed']);
      expect(await count()).toMatchObject({
        users: before.users,
        identities: before.identities + 1,
      });
    });

    it('answers the one-time code once, also to two exchanges at the same moment', async () => {
      const { code } = await signIn(newPerson());
      const sessions = (await count()).sessions;
      const answers = await Promise.all([exchange(code), exchange(code), exchange(code)]);
      expect(answers.map((res) => res.status).sort()).toEqual([200, 401, 401]);
      expect((await count()).sessions).toBe(sessions + 1);
    });

    it('two first sign-ins of a new person at the same moment make one account, never a 500', async () => {
      const id = newPerson();
      const flows = await Promise.all([start(), start()]);
      const urls = await Promise.all(flows.map((flow) => atProvider(flow, id)));
      const before = await count();
      const answers = await Promise.all(urls.map((url, i) => callback(url, flows[i].cookie)));
      const results = answers.map((res) => fragment(res.headers.location));
      expect(results.some((result) => result.code !== undefined)).toBe(true);
      expect(results.map((result) => result.error)).not.toContain('server_error');
      const after = await count();
      expect(after.users).toBe(before.users + 1);
      expect(after.identities).toBe(before.identities + 1);
    });

    it('answers the one-time code once', async () => {
      const { code } = await signIn(newPerson());
      await exchange(code).expect(200);
      await exchange(code).expect(401);
      await exchange('A'.repeat(43)).expect(401);
    });
  });

  describe('the one-time code is bound to the front end that started the flow', () => {
    it("refuses an attacker's code exchanged by another front end (login CSRF), and spends it", async () => {
      // The attacker runs the flow in their own browser with their own verifier, and sends the
      // victim to `…/signed-in#code=<the attacker's code>`: the victim's front end only knows
      // its own verifier.
      const attackerVerifier = randomBytes(32).toString('base64url');
      const { code } = await signIn(newPerson(), RETURN, challengeOf(attackerVerifier));
      const before = await count();
      const since = new Date(Date.now() - 5);
      const res = await exchange(code, VERIFIER).expect(401);
      expect(res.body.message).toMatch(/Invalid or expired sign-in code/);
      expect(res.body).not.toHaveProperty('accessToken');
      expect(await count()).toEqual({ ...before, codes: before.codes - 1 });
      // Spent: not even its own verifier opens it now.
      await exchange(code, attackerVerifier).expect(401);
      expect((await count()).sessions).toBe(before.sessions);
      const failed = await pollUntil(
        () =>
          db()
            .collection('audit_events')
            .findOne({ type: 'oidc.login_failed', at: { $gte: since } } as never),
        (event) => event !== null,
        { timeoutMs: 10_000, intervalMs: 50 },
      );
      expect(failed).toMatchObject({
        actor: 'anonymous',
        detail: { provider: 'testop', reason: 'verifier_mismatch' },
      });
    });

    it('opens with the verifier of the challenge sent to /start', async () => {
      const verifier = randomBytes(48).toString('base64url');
      const { code } = await signIn(newPerson(), RETURN, challengeOf(verifier));
      await signedIn(code, verifier);
    });

    it('refuses a sign-in started without a challenge, or with a malformed one (400, nothing stored)', async () => {
      const transactions = await db().collection('oidc_transactions').countDocuments();
      for (const query of [
        { redirect: RETURN },
        { redirect: RETURN, challenge: 'short' },
        { redirect: RETURN, challenge: `${CHALLENGE.slice(0, 42)}+` },
      ]) {
        const res = await request(server)
          .get('/api/auth/oidc/testop/start')
          .query(query)
          .expect(400);
        expect(res.headers.location).toBeUndefined();
      }
      expect(await db().collection('oidc_transactions').countDocuments()).toBe(transactions);
      // And an exchange without a verifier, or a malformed one: 400, the code kept.
      const { code } = await signIn(newPerson());
      await request(server).post('/api/auth/oidc/exchange').send({ code }).expect(400);
      await exchange(code, 'x').expect(400);
      await signedIn(code);
    });
  });

  describe('refused, with nothing created', () => {
    /** Runs `act`, expects `#error=<reason>` at `redirect`, and nothing new but the refusal. */
    const refused = async (
      reason: string,
      act: () => Promise<string | undefined>,
      redirect = RETURN,
    ) => {
      const before = await count();
      const location = await act();
      expect((location ?? '').split('#')[0]).toBe(redirect);
      expect(fragment(location)).toEqual({ error: reason });
      expect(await count()).toEqual(before);
    };

    it('an unverified provider email (no link, no account)', async () => {
      const local = await make.user();
      await verifyLocally(local.email);
      await refused('email_not_verified', async () => {
        const flow = await start();
        return (await callback(await atProvider(flow, newPerson(false, local.email)), flow.cookie))
          .headers.location;
      });
      await refused('email_not_verified', async () => {
        const flow = await start();
        return (await callback(await atProvider(flow, newPerson(false)), flow.cookie)).headers
          .location;
      });
    });

    it("an identity linked from another issuer: the same sub is another person's", async () => {
      const id = newPerson();
      const { me } = await signedIn((await signIn(id)).code);
      const stored = await db()
        .collection('identities')
        .findOne({ provider: 'testop', sub: id } as never);
      expect(stored).toMatchObject({ issuer: op.issuer, sub: id });
      // The provider's settings once named another issuer whose person had this sub.
      await db()
        .collection('identities')
        .updateOne(
          { provider: 'testop', sub: id },
          {
            $set: { issuer: 'https://other-issuer.example' },
          },
        );
      await refused('identity_in_use', async () => {
        const flow = await start();
        return (await callback(await atProvider(flow, id), flow.cookie)).headers.location;
      });
      expect(me.id).toEqual(expect.any(String));
    });

    it('a local account that has not verified its email', async () => {
      const local = await make.user();
      await refused('local_account_unverified', async () => {
        const flow = await start();
        return (await callback(await atProvider(flow, newPerson(true, local.email)), flow.cookie))
          .headers.location;
      });
    });

    it('a state that is not the one sent (state mismatch)', async () => {
      const flow = await start();
      const url = new URL(await atProvider(flow, newPerson()));
      url.searchParams.set('state', 'x'.repeat(43));
      await refused(
        'invalid_state',
        async () => (await callback(url.href, flow.cookie)).headers.location,
      );
      // The real state still works once: the forged one used nothing up.
    });

    it('a replayed callback', async () => {
      const flow = await start();
      const url = await atProvider(flow, newPerson());
      const first = await callback(url, flow.cookie);
      expect(Object.keys(fragment(first.headers.location))).toEqual(['code']);
      await refused(
        'invalid_state',
        async () => (await callback(url, flow.cookie)).headers.location,
      );
    });

    it('the same callback twice at the same moment: one sign-in', async () => {
      const flow = await start();
      const url = await atProvider(flow, newPerson());
      const answers = await Promise.all([callback(url, flow.cookie), callback(url, flow.cookie)]);
      const results = answers.map((res) => Object.keys(fragment(res.headers.location)).join());
      expect(results.sort()).toEqual(['code', 'error']);
    });

    it('a callback in another browser than the one that started the flow', async () => {
      const flow = await start();
      const url = await atProvider(flow, newPerson());
      await refused('invalid_state', async () => (await callback(url)).headers.location);
      const other = await start();
      await refused(
        'invalid_state',
        async () => (await callback(url, other.cookie)).headers.location,
      );
    });

    it('an ID token with another nonce', async () => {
      const flow = await start();
      await db()
        .collection('oidc_transactions')
        .updateOne({ _id: sha256(flow.state) } as never, { $set: { nonce: 'n'.repeat(43) } });
      const url = await atProvider(flow, newPerson());
      const seen = logs.length;
      await refused(
        'invalid_id_token',
        async () => (await callback(url, flow.cookie)).headers.location,
      );
      expect(loggedSince(seen, /claim nonce/)).toBe(true);
    });

    it('an expired transaction', async () => {
      const flow = await start();
      const url = await atProvider(flow, newPerson());
      await db()
        .collection('oidc_transactions')
        .updateOne({ _id: sha256(flow.state) } as never, {
          $set: { expiresAt: new Date(Date.now() - 1000) },
        });
      await refused('expired', async () => (await callback(url, flow.cookie)).headers.location);
    });

    it('an ID token for another audience', async () => {
      const flow = await start();
      const url = await atProvider(flow, newPerson());
      op.wrongAudience = 'someone-else';
      const seen = logs.length;
      try {
        await refused(
          'invalid_id_token',
          async () => (await callback(url, flow.cookie)).headers.location,
        );
        expect(loggedSince(seen, /claim aud/)).toBe(true);
      } finally {
        op.wrongAudience = null;
      }
    });

    it("the provider's error (the person declines: access_denied)", async () => {
      const flow = await start();
      const url = await signInAtProvider(new CookieClient(), flow.location, newPerson(), CALLBACK, {
        abort: true,
      });
      expect(new URL(url).searchParams.get('error')).toBe('access_denied');
      await refused(
        'access_denied',
        async () => (await callback(url, flow.cookie)).headers.location,
      );
    });

    it('a disabled account (and its one-time code once disabled)', async () => {
      const admin = await make.admin();
      const id = newPerson();
      const { me } = await signedIn((await signIn(id)).code);
      const { code } = await signIn(id);
      await request(server)
        .patch(`/api/users/${me.id as string}`)
        .set(admin.auth)
        .send({ active: false })
        .expect(200);
      const sessions = (await count()).sessions;
      await exchange(code).expect(403);
      expect((await count()).sessions).toBe(sessions);
      await refused('account_disabled', async () => {
        const flow = await start();
        return (await callback(await atProvider(flow, id), flow.cookie)).headers.location;
      });
    });

    it('a return URL not on the allowlist: 400 at the start, never redirected', async () => {
      const before = await count();
      const transactions = await db().collection('oidc_transactions').countDocuments();
      for (const redirect of [
        'https://evil.example/steal',
        `${RETURN}/..`,
        `${RETURN}#x`,
        `${RETURN}?a=1`,
      ]) {
        const res = await request(server)
          .get('/api/auth/oidc/testop/start')
          .query({ redirect, challenge: CHALLENGE })
          .expect(400);
        expect(res.headers.location).toBeUndefined();
      }
      expect(await count()).toEqual(before);
      expect(await db().collection('oidc_transactions').countDocuments()).toBe(transactions);
    });

    it('an unknown provider: 404', async () => {
      await request(server)
        .get('/api/auth/oidc/nope/start')
        .query({ redirect: RETURN, challenge: CHALLENGE })
        .expect(404);
      await request(server).get('/api/auth/oidc/nope/callback').query({ state: 'x' }).expect(404);
    });
  });

  describe('linking from a signed-in account', () => {
    const linkUrl = async (user: TestUser, redirect = ACCOUNT_PAGE) => {
      const res = await request(server)
        .post('/api/auth/identities/testop')
        .set(user.auth)
        .send({ redirect })
        .expect(200);
      return res.body.url as string;
    };

    /** Opens the link URL in a browser and goes through the provider: the final location. */
    const followLink = async (url: string, accountId: string) => {
      const target = new URL(url);
      const res = await request(server)
        .get(target.pathname + target.search)
        .expect(302);
      const cookie =
        ([] as string[])
          .concat(res.headers['set-cookie'] ?? [])
          .map((line) => line.split(';')[0])
          .find((c) => c.startsWith('gh_oidc=')) ?? '';
      const back = await signInAtProvider(
        new CookieClient(),
        res.headers.location,
        accountId,
        CALLBACK,
      );
      return (await callback(back, cookie)).headers.location;
    };

    /** The signed-in user's front end finishes the link the browser came back with. */
    const confirm = (location: string | undefined, user: { auth: Record<string, string> }) =>
      request(server)
        .post('/api/auth/identities/confirm')
        .set(user.auth)
        .send({ code: fragment(location).link_code });

    /** A whole link: the URL, the provider, the confirmation by the same user. */
    const linkFor = async (user: TestUser, accountId: string) => {
      const location = await followLink(await linkUrl(user), accountId);
      return confirm(location, user).expect(200);
    };

    it('links any provider account (its email need not match), then signs in with it', async () => {
      const user = await make.user();
      const id = newPerson(false);
      const before = await count();
      const location = await followLink(await linkUrl(user), id);
      expect(location?.split('#')[0]).toBe(ACCOUNT_PAGE);
      expect(Object.keys(fragment(location))).toEqual(['link_code']);
      // Nothing linked by the callback: the user confirms.
      expect((await count()).identities).toBe(before.identities);
      const res = await confirm(location, user).expect(200);
      expect(res.body).toEqual({
        provider: 'testop',
        name: 'Test provider',
        email: op.people.get(id)?.email,
        linkedAt: expect.any(String),
      });
      expect((await count()).identities).toBe(before.identities + 1);
      // Once only; and a link code is no sign-in code.
      await confirm(location, user).expect(400);
      const { me } = await signedIn((await signIn(id)).code);
      expect(me.id).toBe(user.id);
    });

    it("refuses a link URL of one user completed in another's browser: nothing linked (link replay)", async () => {
      // The attacker asks for a link to their account and opens its URL in the victim's
      // browser; the victim passes their own provider login.
      const attacker = await make.user();
      const victim = await make.user();
      const victimAtProvider = newPerson();
      const before = await count();
      const location = await followLink(await linkUrl(attacker), victimAtProvider);
      expect(Object.keys(fragment(location))).toEqual(['link_code']);
      // The victim's front end (signed in as the victim) finishes it: refused, and spent.
      const res = await confirm(location, victim).expect(403);
      expect(res.body.message).toMatch(/started by another account/);
      expect(await count()).toEqual(before);
      await confirm(location, attacker).expect(400);
      await request(server)
        .post('/api/auth/oidc/exchange')
        .send({ code: fragment(location).link_code, verifier: VERIFIER })
        .expect(401);
      expect(await count()).toEqual(before);
      const linked = await request(server).get('/api/auth/identities').set(attacker.auth);
      expect(linked.body).toEqual([]);
      // The victim's provider account still signs nobody into the attacker's account.
      const { code } = await signIn(victimAtProvider);
      const { me } = await signedIn(code);
      expect(me.id).not.toBe(attacker.id);
    });

    it('binds a link to the front end when it adds a challenge to the link URL', async () => {
      const user = await make.user();
      const verifier = randomBytes(32).toString('base64url');
      const url = new URL(await linkUrl(user));
      url.searchParams.set('challenge', challengeOf(verifier));
      const location = await followLink(url.href, newPerson());
      const code = fragment(location).link_code;
      const before = await count();
      await request(server)
        .post('/api/auth/identities/confirm')
        .set(user.auth)
        .send({ code, verifier: VERIFIER })
        .expect(403);
      expect(await count()).toEqual({ ...before, codes: before.codes - 1 });
      const again = await followLink(
        await linkUrl(user).then((href) => `${href}&challenge=${challengeOf(verifier)}`),
        newPerson(),
      );
      await request(server)
        .post('/api/auth/identities/confirm')
        .set(user.auth)
        .send({ code: fragment(again).link_code, verifier })
        .expect(200);
    });

    it("refuses a provider account linked to someone else's account", async () => {
      const id = newPerson();
      await signIn(id);
      const user = await make.user();
      const before = await count();
      const location = await followLink(await linkUrl(user), id);
      expect(fragment(location)).toEqual({ error: 'identity_in_use' });
      expect(await count()).toEqual(before);
      // Linked elsewhere between the callback and the confirmation: 409, nothing linked.
      const other = newPerson();
      const pending = await followLink(await linkUrl(user), other);
      await signIn(other);
      const now = await count();
      await confirm(pending, user).expect(409);
      expect(await count()).toEqual({ ...now, codes: now.codes - 1 });
    });

    it('keeps a link request usable when the provider cannot be reached (503, then 503 again)', async () => {
      const user = await make.user();
      const res = await request(server)
        .post('/api/auth/identities/down')
        .set(user.auth)
        .send({ redirect: ACCOUNT_PAGE })
        .expect(200);
      const target = new URL(res.body.url as string);
      const transactions = await db().collection('oidc_transactions').countDocuments();
      await request(server)
        .get(target.pathname + target.search)
        .expect(503);
      await request(server)
        .get(target.pathname + target.search)
        .expect(503);
      expect(await db().collection('oidc_transactions').countDocuments()).toBe(transactions);
    });

    it('answers the identity routes with Cache-Control: no-store', async () => {
      const user = await make.user();
      const list = await request(server).get('/api/auth/identities').set(user.auth).expect(200);
      expect(list.headers['cache-control']).toBe('no-store');
      const link = await request(server)
        .post('/api/auth/identities/testop')
        .set(user.auth)
        .send({ redirect: ACCOUNT_PAGE })
        .expect(200);
      expect(link.headers['cache-control']).toBe('no-store');
      const confirm = await request(server)
        .post('/api/auth/identities/confirm')
        .set(user.auth)
        .send({ code: 'A'.repeat(43) })
        .expect(400);
      expect(confirm.headers['cache-control']).toBe('no-store');
    });

    it('refuses a link request used twice, and a return URL not on the allowlist', async () => {
      const user = await make.user();
      const url = await linkUrl(user);
      const target = new URL(url);
      await request(server)
        .get(target.pathname + target.search)
        .expect(302);
      await request(server)
        .get(target.pathname + target.search)
        .expect(400);
      await request(server)
        .post('/api/auth/identities/testop')
        .set(user.auth)
        .send({ redirect: 'https://evil.example/' })
        .expect(400);
      await request(server).post('/api/auth/identities/testop').send({}).expect(401);
    });

    it('unlinks, but never the last way to sign in', async () => {
      // A password account with a link: unlinking leaves the password.
      const user = await make.user();
      await linkFor(user, newPerson());
      await request(server).delete('/api/auth/identities/testop').set(user.auth).expect(204);
      await request(server).delete('/api/auth/identities/testop').set(user.auth).expect(404);
      // An account made by the provider has no password: its one link stays.
      const { auth } = await signedIn((await signIn(newPerson())).code);
      const before = await count();
      const res = await request(server).delete('/api/auth/identities/testop').set(auth).expect(409);
      expect(res.body.message).toMatch(/last way to sign in/);
      expect(await count()).toEqual(before);
    });

    /** An account made by the provider (no password), signed in, as a TestUser. */
    const providerAccount = async (): Promise<TestUser> => {
      const { me, body, auth } = await signedIn((await signIn(newPerson())).code);
      return {
        id: me.id as string,
        email: me.email as string,
        password: '',
        token: body.accessToken as string,
        auth,
      };
    };
    const passkeysOf = (userId: string) =>
      db()
        .collection('passkey_credentials')
        .countDocuments({ owner: new Types.ObjectId(userId) });

    it('counts passkeys as a way to sign in: unlink and passkey removal keep the last one', async () => {
      // No password, a link and a passkey: either may go, not both.
      const user = await providerAccount();
      const passkey = await registerPasskey(t.app, user);
      await request(server).delete('/api/auth/identities/testop').set(user.auth).expect(204);
      const before = await count();
      const res = await request(server)
        .delete(`/api/auth/passkeys/${passkey.id}`)
        .set(user.auth)
        .expect(409);
      expect(res.body.message).toMatch(/last way to sign in/);
      expect(await passkeysOf(user.id)).toBe(1);
      expect(await count()).toEqual(before);
      // The other order: the passkey goes, the link is then the last way.
      const other = await providerAccount();
      const second = await registerPasskey(t.app, other);
      await request(server).delete(`/api/auth/passkeys/${second.id}`).set(other.auth).expect(204);
      await request(server).delete('/api/auth/identities/testop').set(other.auth).expect(409);
      expect(await passkeysOf(other.id)).toBe(0);
      expect(
        await db()
          .collection('identities')
          .countDocuments({ user: new Types.ObjectId(other.id) }),
      ).toBe(1);
    });

    it('never removes both last ways at the same moment (unlink and passkey removal race)', async () => {
      const user = await providerAccount();
      const passkey = await registerPasskey(t.app, user);
      const answers = await Promise.all([
        request(server).delete('/api/auth/identities/testop').set(user.auth),
        request(server).delete(`/api/auth/passkeys/${passkey.id}`).set(user.auth),
      ]);
      expect(answers.filter((res) => res.status === 204).length).toBeLessThanOrEqual(1);
      expect(answers.every((res) => [204, 409].includes(res.status))).toBe(true);
      const left =
        (await passkeysOf(user.id)) +
        (await db()
          .collection('identities')
          .countDocuments({ user: new Types.ObjectId(user.id) }));
      expect(left).toBeGreaterThanOrEqual(1);
    });

    it("deletes a user's identities with the user", async () => {
      const admin = await make.admin();
      const { me } = await signedIn((await signIn(newPerson())).code);
      await request(server)
        .delete(`/api/users/${me.id as string}`)
        .set(admin.auth)
        .expect(204);
      expect(await db().collection('identities').countDocuments({ user: me.id })).toBe(0);
    });

    it('records the events: sign-up, links by signup, email and user, sign-in, unlink, refusals', async () => {
      const since = new Date(Date.now() - 5);
      const { me } = await signedIn((await signIn(newPerson())).code);
      const local = await make.user();
      await verifyLocally(local.email);
      await signedIn((await signIn(newPerson(true, local.email))).code);
      const user = await make.user();
      await linkFor(user, newPerson());
      await request(server).delete('/api/auth/identities/testop').set(user.auth).expect(204);
      const flow = await start();
      await callback(await atProvider(flow, newPerson(false)), flow.cookie);
      interface Stored {
        type: string;
        actor: string;
        subject: string | null;
        session?: string | null;
        detail: Record<string, unknown>;
      }
      const events = await pollUntil(
        async () =>
          (await db()
            .collection('audit_events')
            .find({ at: { $gte: since } } as never)
            .toArray()) as unknown as Stored[],
        (all) => all.some((e) => e.type === 'oidc.login_failed'),
        { timeoutMs: 10_000, intervalMs: 50 },
      );
      const find = (type: string, subject: string | null) =>
        events.find((e) => e.type === type && e.subject === subject);
      const userSession = decodePayload(user.token).sid;
      expect(find('user.signed_up', me.id as string)).toMatchObject({
        actor: me.id,
        detail: { method: 'oidc' },
      });
      expect(find('identity.linked', me.id as string)?.detail).toEqual({
        provider: 'testop',
        by: 'signup',
      });
      expect(find('identity.linked', local.id)).toMatchObject({
        actor: local.id,
        detail: { provider: 'testop', by: 'email' },
      });
      expect(find('identity.linked', user.id)).toMatchObject({
        actor: user.id,
        detail: { provider: 'testop', by: 'user' },
      });
      expect(find('identity.unlinked', user.id)).toMatchObject({
        actor: user.id,
        session: userSession,
        detail: { provider: 'testop' },
      });
      expect(find('oidc.login_succeeded', local.id)).toMatchObject({
        actor: local.id,
        session: expect.any(String),
        detail: { provider: 'testop' },
      });
      expect(find('oidc.login_failed', null)).toMatchObject({
        actor: 'anonymous',
        detail: { provider: 'testop', reason: 'email_not_verified' },
      });
    });
  });

  describe('second factor', () => {
    it('is still asked of a linked account with TOTP, then the session says fed + otp', async () => {
      const user = await enrolledUser(t.app);
      await verifyLocally(user.email);
      const id = newPerson(true, user.email);
      const sessions = await count();
      const res = await exchange((await signIn(id)).code).expect(200);
      expect(res.body).toEqual({ mfaRequired: true, mfaToken: expect.any(String), expiresIn: 300 });
      expect((await count()).sessions).toBe(sessions.sessions);
      // The same second step as after a password (the next time step: the enrolment used this one).
      const done = await request(server)
        .post('/api/auth/login/mfa')
        .send({ mfaToken: res.body.mfaToken, code: codeAt(user.secret, 1) })
        .expect(200);
      expect(decodePayload(done.body.accessToken as string).amr).toEqual(['fed', 'otp', 'mfa']);
    });

    it('is still asked of a linked account with a passkey (no TOTP), finished with the passkey', async () => {
      const user = await make.user();
      await verifyLocally(user.email);
      const { authenticator } = await registerPasskey(t.app, user);
      const id = newPerson(true, user.email);
      const sessions = (await count()).sessions;
      const res = await exchange((await signIn(id)).code).expect(200);
      expect(res.body).toEqual({ mfaRequired: true, mfaToken: expect.any(String), expiresIn: 300 });
      expect((await count()).sessions).toBe(sessions);
      const options = await request(server)
        .post('/api/auth/login/mfa/passkey/options')
        .send({ mfaToken: res.body.mfaToken })
        .expect(200);
      const done = await request(server)
        .post('/api/auth/login/mfa/passkey')
        .send({ mfaToken: res.body.mfaToken, response: authenticator.assert(options.body) })
        .expect(200);
      // The first step was the provider, not a password.
      expect(decodePayload(done.body.accessToken as string).amr).toEqual(['fed', 'hwk', 'mfa']);
      expect((await count()).sessions).toBe(sessions + 1);
    });

    it('is not trusted from the provider by default, even when its amr says mfa', async () => {
      const user = await enrolledUser(t.app);
      await verifyLocally(user.email);
      const id = newPerson(true, user.email);
      op.amr = ['pwd', 'mfa'];
      try {
        const res = await exchange((await signIn(id)).code).expect(200);
        expect(res.body.mfaRequired).toBe(true);
      } finally {
        op.amr = null;
      }
    });
  });
});

describe('sign-in with a provider: trusted provider MFA and the per-IP login limit', () => {
  let op: TestProvider;
  let t: TestApp;
  let server: ReturnType<TestApp['app']['getHttpServer']>;
  let make: Fixtures;

  beforeAll(async () => {
    op = await startTestProvider([{ ...CLIENT, redirectUri: CALLBACK }]);
    t = await createTestApp({
      label: 'oidc_trust',
      env: {
        PUBLIC_URL: API,
        OIDC_PROVIDERS: JSON.stringify([
          { id: 'testop', name: 'Test provider', issuer: op.issuer, ...CLIENT },
        ]),
        OIDC_REDIRECT_ALLOWLIST: RETURN,
        OIDC_ALLOW_INSECURE_ISSUERS: 'true',
        OIDC_TRUST_PROVIDER_MFA: 'true',
        OIDC_SIGNUP: 'false',
        LOGIN_MAX_FAILURES_PER_IP: '3',
      },
    });
    server = t.app.getHttpServer();
    make = fixtures(t.app);
  });

  afterAll(async () => {
    await t.close();
    await op.close();
  });

  const signIn = async (accountId: string) => {
    const res = await request(server)
      .get('/api/auth/oidc/testop/start')
      .query({ redirect: RETURN, challenge: CHALLENGE })
      .expect(302);
    const cookie =
      ([] as string[])
        .concat(res.headers['set-cookie'] ?? [])
        .map((line) => line.split(';')[0])
        .find((c) => c.startsWith('gh_oidc=')) ?? '';
    const back = new URL(
      await signInAtProvider(new CookieClient(), res.headers.location, accountId, CALLBACK),
    );
    const done = await request(server)
      .get(back.pathname + back.search)
      .set('Cookie', cookie)
      .expect(302);
    return fragment(done.headers.location);
  };

  it('skips the second factor when the provider says mfa and is trusted', async () => {
    const user = await enrolledUser(t.app);
    await connectionOf(t.app)
      .collection('users')
      .updateOne({ email: user.email }, { $set: { emailVerified: true } });
    const id = person('mfa');
    op.people.set(id, { email: user.email, emailVerified: true });
    op.amr = ['pwd', 'otp', 'mfa'];
    try {
      const { code } = await signIn(id);
      const res = await request(server)
        .post('/api/auth/oidc/exchange')
        .send({ code, verifier: VERIFIER })
        .expect(200);
      expect(decodePayload(res.body.accessToken as string).amr).toEqual(['fed', 'mfa']);
    } finally {
      op.amr = null;
    }
    // Without `mfa` in the provider's amr, the second factor is asked for.
    const { code } = await signIn(id);
    const res = await request(server)
      .post('/api/auth/oidc/exchange')
      .send({ code, verifier: VERIFIER })
      .expect(200);
    expect(res.body.mfaRequired).toBe(true);
  });

  it('refuses a sign-up when OIDC_SIGNUP is off, with nothing created', async () => {
    const id = person('nosignup');
    op.people.set(id, { email: `${id}@example.com`, emailVerified: true });
    const users = await connectionOf(t.app).collection('users').countDocuments();
    expect(await signIn(id)).toEqual({ error: 'signup_disabled' });
    expect(await connectionOf(t.app).collection('users').countDocuments()).toBe(users);
  });

  it('counts failed callbacks against the per-IP login limit', async () => {
    const user = await make.user();
    // Forged callbacks (unknown state) from this address: refused, and counted with the refusal
    // of the sign-up above (when it ran first), until the limit (3) is reached.
    const errors: string[] = [];
    for (let i = 0; i < 4 && !errors.includes('throttled'); i++) {
      const res = await request(server)
        .get('/api/auth/oidc/testop/callback')
        .query({ code: 'x', state: `forged-${i}` })
        .expect(302);
      errors.push(fragment(res.headers.location).error);
    }
    expect(errors.at(-1)).toBe('throttled');
    expect(errors.slice(0, -1).every((error) => error === 'invalid_state')).toBe(true);
    expect(errors.length).toBeLessThanOrEqual(4);
    // And the password logins from the same address with them.
    await request(server)
      .post('/api/auth/login')
      .send({ email: user.email, password: user.password })
      .expect(429);
  });
});

import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

import { jest } from '@jest/globals';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import request from 'supertest';

import { buildOpenApiDocument } from '../../src/bootstrap.js';
import type { TestApp } from '../support/app.js';
import { createTestApp } from '../support/app.js';
import { ARTIFACTS, launchChromium, screenshot } from '../support/browser.js';
import { fakeClockOnly } from '../support/clock.js';
import { Contract } from '../support/contract.js';
import { codeAt } from '../support/mfa.js';
import { login, STRONG_PASSWORD } from '../support/users.js';

/** A free TCP port: the page's origin (and so the WebAuthn settings) must be known up front. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** A JSON body for the transcript: tokens hidden, long values (base64url) cut short. */
function redacted(body: string): string {
  if (!body) return '(no body)';
  const value: unknown = JSON.parse(body);
  return JSON.stringify(
    value,
    (key, v: unknown) => {
      if (/token$/i.test(key) && typeof v === 'string') return `<${key}>`;
      if (typeof v === 'string' && v.length > 40) return `${v.slice(0, 24)}…`;
      return v;
    },
    2,
  );
}

/** The claims of a JWT (not verified: the app verified it when the page used it). */
const claimsOf = (jwt: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));

/**
 * The page's globals that the functions run in it use (they are compiled with the tests, which
 * have no DOM types).
 */
interface PageGlobals {
  document: { getElementById(id: string): { textContent: string | null } | null; cookie: string };
  localStorage: object;
  sessionStorage: object;
}

const newEmail = (): string => `page-${randomBytes(5).toString('hex')}@example.com`;

/**
 * The account page (/account) in a real Chromium, against the real app on localhost (a secure
 * context, as WebAuthn requires), and its HTTP surface: the page's CSP, that it stays out of the
 * OpenAPI document, and that ACCOUNT_PAGE_ENABLED=false removes it.
 */
describe('Account page', () => {
  let t: TestApp;
  let origin: string;
  let browser: Browser;
  const shots: string[] = [];

  beforeAll(async () => {
    const port = await freePort();
    origin = `http://localhost:${port}`;
    t = await createTestApp({
      label: 'account_page',
      env: { PUBLIC_URL: origin, WEBAUTHN_RP_ID: 'localhost', WEBAUTHN_ORIGINS: origin },
    });
    await t.app.listen({ port, host: '127.0.0.1' });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  /** A fresh browser profile (no storage shared between tests) on the page, ready to use. */
  async function openPage(): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    const page = await context.newPage();
    // Script errors and console errors (a CSP violation is one) fail the test that caused them.
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      // A 4xx the page shows as text is logged by Chromium as a failed load: not a problem.
      const text = message.text();
      if (message.type() === 'error' && !text.startsWith('Failed to load resource')) {
        problems.push(`console: ${text}`);
      }
    });
    await page.goto(`${origin}/account`);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 10_000 });
    return { context, page, problems };
  }

  /** Waits until the page says `text`; fails with the page's error text if it shows one instead. */
  async function expectStatus(page: Page, text: string): Promise<void> {
    const handle = await page.waitForFunction(
      (expected) => {
        const { document } = globalThis as unknown as PageGlobals;
        const status = document.getElementById('status')?.textContent ?? '';
        const error = document.getElementById('error')?.textContent ?? '';
        if (error) return { error };
        return status.includes(expected) ? { error: '' } : false;
      },
      text,
      { timeout: 15_000 },
    );
    const { error } = (await handle.jsonValue()) as { error: string };
    if (error) throw new Error(`the page shows an error instead of "${text}": ${error}`);
  }

  async function signUp(page: Page, email: string): Promise<void> {
    await page.locator('#signup-name').fill('Page User');
    await page.locator('#signup-email').fill(email);
    await page.locator('#signup-password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expectStatus(page, 'Account created');
  }

  async function signInWithPassword(page: Page, email: string): Promise<void> {
    await page.locator('#login-email').fill(email);
    await page.locator('#login-password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  /** Nothing of the sign-in may be kept by the browser: tokens live in the script's memory. */
  async function expectNothingStored(context: BrowserContext, page: Page): Promise<void> {
    const stored = await page.evaluate(() => {
      const { document, localStorage, sessionStorage } = globalThis as unknown as PageGlobals;
      return {
        local: Object.keys(localStorage),
        session: Object.keys(sessionStorage),
        cookie: document.cookie,
      };
    });
    expect(stored).toEqual({ local: [], session: [], cookie: '' });
    expect(await context.cookies()).toEqual([]);
  }

  const sessionItems = (page: Page) => page.locator('#session-list > li');

  /** A platform authenticator in Chromium itself: CTAP2, discoverable credentials, user verification. */
  async function addVirtualAuthenticator(context: BrowserContext, page: Page) {
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
      },
    });
    return { cdp, authenticatorId };
  }

  it('serves the page with a strict CSP: its own script and styles only, no inline code', async () => {
    const html = await request(t.app.getHttpServer()).get('/account').expect(200);
    expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(html.headers['cache-control']).toBe('no-store');
    const csp = String(html.headers['content-security-policy']).split(';');
    expect(csp).toEqual(
      expect.arrayContaining([
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "connect-src 'self'",
        "require-trusted-types-for 'script'",
      ]),
    );
    expect(csp.join(';')).not.toContain('unsafe');
    expect(html.headers['x-frame-options']).toBe('SAMEORIGIN');
    // No inline script, style element, style attribute or event-handler attribute.
    expect(html.text).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(html.text).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);

    const script = await request(t.app.getHttpServer()).get('/account/account.js').expect(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.headers['content-security-policy']).toBe(html.headers['content-security-policy']);
    // @simplewebauthn/browser is bundled in, not fetched from elsewhere.
    expect(script.text).toContain('navigator.credentials');
    const css = await request(t.app.getHttpServer()).get('/account/account.css').expect(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');

    // The API keeps its own policy, and Swagger UI its relaxed one.
    const api = await request(t.app.getHttpServer()).get('/api/health');
    expect(api.headers['content-security-policy']).toBe(
      "default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'",
    );
    const docs = await request(t.app.getHttpServer()).get('/api/docs').expect(200);
    expect(docs.headers['content-security-policy']).toContain("style-src 'self' 'unsafe-inline'");
    // Only the page's three files: anything else under /account is the API's 404.
    await request(t.app.getHttpServer()).get('/account/other.js').expect(404);
  });

  it('keeps the page out of the OpenAPI document without exempting any API route from the contract', async () => {
    const document = await buildOpenApiDocument(t.app);
    expect(Object.keys(document.paths).filter((path) => !path.startsWith('/api/'))).toEqual([]);
    const contract = new Contract(document);
    const html = 'text/html; charset=utf-8';
    expect(contract.check('GET', '/account', 200, html, '<!doctype html>')).toBeUndefined();
    expect(contract.check('GET', '/api/account', 200, html, '<!doctype html>')).toMatch(
      /not in the OpenAPI document/,
    );
    expect(contract.check('GET', '/account/other.js', 200, html, 'x')).toMatch(
      /not in the OpenAPI document/,
    );
    expect(contract.check('GET', '/api/users/me', 200, html, '<!doctype html>')).toMatch(
      /content type text\/html is not declared/,
    );
  });

  it('signs up, signs in with a password, turns TOTP on from its QR code and needs a code at the next sign-in', async () => {
    const { context, page, problems } = await openPage();
    const email = newEmail();
    shots.push(await screenshot(page, 'account-01-signed-out.png'));

    await signUp(page, email);
    expect(await page.locator('#login-email').inputValue()).toBe(email);
    shots.push(await screenshot(page, 'account-02-signed-up.png'));

    await signInWithPassword(page, email);
    await expectStatus(page, 'Signed in.');
    await page.locator('#profile').getByText(email).waitFor();
    await expect(page.locator('#totp-state').textContent()).resolves.toBe('Off.');
    shots.push(await screenshot(page, 'account-03-signed-in.png'));
    await expectNothingStored(context, page);

    // TOTP on: the QR code the API made is shown as an image, the key as text.
    await page.locator('#totp-start-password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Turn on' }).click();
    await expectStatus(page, 'Scan the QR code');
    const qr = page.getByRole('img', { name: /QR code/ });
    await qr.waitFor();
    expect(
      await qr.evaluate(
        (img: { complete: boolean; naturalWidth: number }) => img.complete && img.naturalWidth > 0,
      ),
    ).toBe(true);
    const secret = (await page.locator('#totp-secret').textContent()) ?? '';
    expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
    shots.push(await screenshot(page, 'account-04-totp-qr-code.png'));

    await page.locator('#totp-confirm-code').fill(codeAt(secret, 0));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expectStatus(page, 'The second factor is on.');
    await expect(page.locator('#recovery-codes > li').count()).resolves.toBe(10);
    await page.locator('#profile').getByText('on', { exact: true }).waitFor();
    shots.push(await screenshot(page, 'account-05-totp-on.png'));

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expectStatus(page, 'Signed out.');
    await expect(page.locator('#recovery-codes > li').count()).resolves.toBe(0);

    // The password alone is not enough any more: the page asks for the code.
    await signInWithPassword(page, email);
    await expectStatus(page, 'now the second factor');
    await expect(page.locator('#signed-in').isVisible()).resolves.toBe(false);
    await page.locator('#mfa-code').fill(codeAt(secret, 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    await expectStatus(page, 'Signed in.');
    await expect(page.locator('#totp-state').textContent()).resolves.toMatch(/^On\./);
    shots.push(await screenshot(page, 'account-06-signed-in-with-totp.png'));

    await expectNothingStored(context, page);
    expect(problems).toEqual([]);
    await context.close();
  }, 90_000);

  it('shows API errors as text, and lists sessions, ends another one and signs out', async () => {
    const { context, page, problems } = await openPage();
    const email = newEmail();
    await signUp(page, email);

    // A wrong password: the API's message, as text.
    await page.locator('#login-email').fill(email);
    await page.locator('#login-password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const error = page.locator('#error');
    await error.getByText(/invalid/i).waitFor();
    await expect(error.evaluate((node) => node.children.length)).resolves.toBe(0);

    // Another session of the same account, opened elsewhere (straight through the API).
    const elsewhere = await login(t.app, email, STRONG_PASSWORD);
    await signInWithPassword(page, email);
    await expectStatus(page, 'Signed in.');
    await expect(sessionItems(page).count()).resolves.toBe(2);
    await sessionItems(page).filter({ hasText: 'this browser' }).waitFor();

    const other = sessionItems(page).filter({ hasNotText: 'this browser' });
    await other.getByRole('button', { name: /^End the session/ }).click();
    await expectStatus(page, 'Session ended.');
    await expect(sessionItems(page).count()).resolves.toBe(1);
    shots.push(await screenshot(page, 'account-07-other-session-ended.png'));
    // Ended for real: its refresh token is refused.
    await request(t.app.getHttpServer())
      .post('/api/auth/refresh')
      .send({ refreshToken: elsewhere.refreshToken })
      .expect(401);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expectStatus(page, 'Signed out.');
    await expect(page.locator('#signed-out').isVisible()).resolves.toBe(true);
    // The page's session is over too: a new login sees only itself.
    const after = await login(t.app, email, STRONG_PASSWORD);
    const list = await request(t.app.getHttpServer())
      .get('/api/auth/sessions')
      .set(after.auth)
      .expect(200);
    expect(list.body.items).toHaveLength(1);

    await expectNothingStored(context, page);
    expect(problems).toEqual([]);
    await context.close();
  }, 90_000);

  it('asks for the password again when an action needs a recent sign-in, then does it', async () => {
    const { context, page, problems } = await openPage();
    const email = newEmail();
    await signUp(page, email);
    await signInWithPassword(page, email);
    await expectStatus(page, 'Signed in.');

    // The sign-in is now older than REAUTH_MAX_AGE_SECONDS (300) for the app (fake clock).
    fakeClockOnly(new Date(Date.now() + 301_000));
    try {
      await page.locator('#totp-start-password').fill(STRONG_PASSWORD);
      await page.getByRole('button', { name: 'Turn on' }).click();
      const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
      await dialog.waitFor();
      shots.push(await screenshot(page, 'account-08-confirm-it-is-you.png'));
      // Cancelling the dialog cancels the action.
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await expectStatus(page, 'Cancelled.');
      await expect(page.locator('#totp-enrol').isVisible()).resolves.toBe(false);

      await page.getByRole('button', { name: 'Turn on' }).click();
      await dialog.waitFor();
      // A wrong password keeps the dialog open with the API's answer as text.
      await dialog.getByLabel('Your password').fill('not-the-password');
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await dialog
        .locator('#reauth-error')
        .getByText(/wrong|invalid|incorrect/i)
        .waitFor();
      await dialog.getByLabel('Your password').fill(STRONG_PASSWORD);
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await expectStatus(page, 'Scan the QR code');
      await expect(dialog.isVisible()).resolves.toBe(false);
      await page.getByRole('img', { name: /QR code/ }).waitFor();
    } finally {
      jest.useRealTimers();
    }
    // The tokens were in the page's memory only: a reload signs out.
    await page.reload();
    await page.locator('body[data-ready="true"]').waitFor();
    await expect(page.locator('#signed-out').isVisible()).resolves.toBe(true);
    await expectNothingStored(context, page);
    expect(problems).toEqual([]);
    await context.close();
  }, 90_000);

  it('signs up, signs in, adds a passkey, signs out, signs in with the passkey alone and ends the other session', async () => {
    const { context, page, problems } = await openPage();
    const { cdp, authenticatorId } = await addVirtualAuthenticator(context, page);
    const email = newEmail();
    await signUp(page, email);
    shots.push(await screenshot(page, 'passkey-01-signed-up.png'));
    await signInWithPassword(page, email);
    await expectStatus(page, 'Signed in.');
    await page.locator('#passkey-list').getByText('No passkeys yet.').waitFor();
    shots.push(await screenshot(page, 'passkey-02-signed-in.png'));
    // The other session: the same account signed in elsewhere, straight through the API.
    const elsewhere = await login(t.app, email, STRONG_PASSWORD);

    fakeClockOnly(new Date());
    try {
      // Adding a passkey needs a recent sign-in: five minutes later the page asks again first.
      jest.advanceTimersByTime(301_000);
      await page.getByLabel('Name for a new passkey').fill('Laptop');
      await page.getByRole('button', { name: 'Add a passkey' }).click();
      const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
      await dialog.waitFor();
      await dialog.getByLabel('Your password').fill(STRONG_PASSWORD);
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await expectStatus(page, 'Passkey added.');
      const passkeys = page.locator('#passkey-list > li');
      await expect(passkeys.count()).resolves.toBe(1);
      await passkeys.getByText('Laptop', { exact: true }).waitFor();
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      expect(credentials).toHaveLength(1);
      expect(credentials[0].isResidentCredential).toBe(true);

      await passkeys.getByRole('textbox').fill('Work laptop');
      await passkeys.getByRole('button', { name: 'Rename' }).click();
      await expectStatus(page, 'Passkey renamed.');
      await passkeys.getByText('Work laptop', { exact: true }).waitFor();
      shots.push(await screenshot(page, 'passkey-03-passkey-added.png'));

      await page.getByRole('button', { name: 'Sign out' }).click();
      await expectStatus(page, 'Signed out.');
      shots.push(await screenshot(page, 'passkey-04-signed-out.png'));

      // Usernameless: no email typed, the authenticator's discoverable credential says who.
      // The exchange, as the browser sent and received it (artifacts/passkey-login-transcript.txt).
      const exchange: Promise<string>[] = [];
      let accessToken = '';
      const record = (response: Response): void => {
        const { pathname } = new URL(response.url());
        if (!pathname.startsWith('/api/auth/passkeys/login')) return;
        const sent = response.request();
        exchange.push(
          response.text().then((text) => {
            if (pathname.endsWith('/login'))
              accessToken = (JSON.parse(text) as { accessToken: string }).accessToken;
            return [
              `${sent.method()} ${pathname}`,
              redacted(sent.postData() ?? ''),
              `-> ${response.status()}`,
              redacted(text),
            ].join('\n');
          }),
        );
      };
      page.on('response', record);
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await expectStatus(page, 'Signed in.');
      page.off('response', record);
      const transcript = await Promise.all(exchange);
      expect(transcript.map((step) => step.split('\n')[0])).toEqual([
        'POST /api/auth/passkeys/login/options',
        'POST /api/auth/passkeys/login',
      ]);
      // With user verification a passkey is two factors in one: no TOTP step, `mfa` in amr.
      const { amr } = claimsOf(accessToken) as { amr: string[] };
      expect(amr).toContain('mfa');
      expect(amr.some((method) => method === 'hwk' || method === 'swk')).toBe(true);
      mkdirSync(ARTIFACTS, { recursive: true });
      writeFileSync(
        join(ARTIFACTS, 'passkey-login-transcript.txt'),
        `${transcript.join('\n\n')}\n\naccess token amr: ${JSON.stringify(amr)}\n`,
      );
      expect(await page.locator('#login-email').inputValue()).toBe('');
      await page.locator('#profile').getByText(email).waitFor();
      await passkeys.getByText(/last used (?!never)/).waitFor();
      shots.push(await screenshot(page, 'passkey-05-signed-in-with-passkey.png'));

      // This session and the one elsewhere (the password session of this page was signed out).
      await expect(sessionItems(page).count()).resolves.toBe(2);
      const other = sessionItems(page).filter({ hasNotText: 'this browser' });
      await other.getByRole('button', { name: /^End the session/ }).click();
      await expectStatus(page, 'Session ended.');
      await expect(sessionItems(page).count()).resolves.toBe(1);
      shots.push(await screenshot(page, 'passkey-06-other-session-ended.png'));
      await request(t.app.getHttpServer())
        .post('/api/auth/refresh')
        .send({ refreshToken: elsewhere.refreshToken })
        .expect(401);

      // Removing it needs a recent sign-in too; this time the passkey itself confirms.
      jest.advanceTimersByTime(301_000);
      await passkeys.getByRole('button', { name: 'Remove Work laptop' }).click();
      await dialog.waitFor();
      await dialog.getByRole('button', { name: 'Use a passkey' }).click();
      await expectStatus(page, 'Passkey removed.');
      await page.locator('#passkey-list').getByText('No passkeys yet.').waitFor();
    } finally {
      jest.useRealTimers();
    }
    await expectNothingStored(context, page);
    expect(problems).toEqual([]);
    await context.close();
  }, 120_000);

  it('finishes a password sign-in with a passkey instead of the TOTP code', async () => {
    const { context, page, problems } = await openPage();
    await addVirtualAuthenticator(context, page);
    const email = newEmail();
    await signUp(page, email);
    await signInWithPassword(page, email);
    await expectStatus(page, 'Signed in.');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await expectStatus(page, 'Passkey added.');
    await page.locator('#totp-start-password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Turn on' }).click();
    await expectStatus(page, 'Scan the QR code');
    const secret = (await page.locator('#totp-secret').textContent()) ?? '';
    await page.locator('#totp-confirm-code').fill(codeAt(secret, 0));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expectStatus(page, 'The second factor is on.');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expectStatus(page, 'Signed out.');

    await signInWithPassword(page, email);
    await expectStatus(page, 'now the second factor');
    await page.getByRole('button', { name: 'Use a passkey instead' }).click();
    await expectStatus(page, 'Signed in.');
    await page.locator('#profile').getByText(email).waitFor();
    shots.push(await screenshot(page, 'passkey-07-second-step-with-passkey.png'));
    await expectNothingStored(context, page);
    expect(problems).toEqual([]);
    await context.close();
  }, 90_000);
});

// An app of its own, with the page switched off.
describe('Account page switched off', () => {
  it('answers 404 at /account when ACCOUNT_PAGE_ENABLED=false', async () => {
    const off = await createTestApp({
      label: 'account_page_off',
      env: { ACCOUNT_PAGE_ENABLED: 'false' },
    });
    try {
      for (const path of ['/account', '/account/account.js', '/account/account.css']) {
        const res = await request(off.app.getHttpServer()).get(path).expect(404);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expect(res.headers['content-security-policy']).toContain("default-src 'none'");
      }
    } finally {
      await off.close();
    }
  });
});

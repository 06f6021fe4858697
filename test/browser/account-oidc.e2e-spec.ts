import { createServer } from 'node:net';

import type { Browser } from 'playwright-core';

import type { TestApp } from '../support/app.js';
import { createTestApp } from '../support/app.js';
import { launchChromium, screenshot } from '../support/browser.js';
import type { TestProvider } from '../support/oidc-provider.js';
import { startTestProvider } from '../support/oidc-provider.js';

/** A free TCP port: the page's origin (the callback, the allowlist) must be known up front. */
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

/** The page's globals the functions run in it use (the tests have no DOM types). */
interface PageGlobals {
  document: { getElementById(id: string): { textContent: string | null } | null };
  sessionStorage: { length: number };
  location: { hash: string; href: string };
}

const CLIENT = { clientId: 'guardhouse', clientSecret: 'test-client-secret-0123456789abcdef' };

/**
 * The account page's "Sign in with <provider>" in a real Chromium, through the real test
 * OpenID Provider's login and consent pages (docs/oidc.md: the verifier kept in sessionStorage
 * across the redirect only, the fragment cleared, the code exchanged).
 */
describe('Account page: sign-in with an OpenID Connect provider', () => {
  let t: TestApp;
  let op: TestProvider;
  let origin: string;
  let browser: Browser;

  beforeAll(async () => {
    const port = await freePort();
    origin = `http://localhost:${port}`;
    op = await startTestProvider([
      { ...CLIENT, redirectUri: `${origin}/api/auth/oidc/testop/callback` },
    ]);
    t = await createTestApp({
      label: 'account_page_oidc',
      env: {
        PUBLIC_URL: origin,
        OIDC_PROVIDERS: JSON.stringify([
          { id: 'testop', name: 'Test provider', issuer: op.issuer, ...CLIENT },
        ]),
        OIDC_REDIRECT_ALLOWLIST: `${origin}/account`,
        OIDC_ALLOW_INSECURE_ISSUERS: 'true',
      },
    });
    await t.app.listen({ port, host: '127.0.0.1' });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await op?.close();
  });

  it("signs in through the provider's login and consent pages and lands signed in on /account", async () => {
    op.people.set('pat', { email: 'pat-browser@example.com', emailVerified: true, name: 'Pat' });
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    try {
      await page.goto(`${origin}/account`);
      await page.locator('body[data-ready="true"]').waitFor({ timeout: 10_000 });
      const button = page.getByRole('button', { name: 'Sign in with Test provider' });
      await button.waitFor({ timeout: 10_000 });
      await screenshot(page, 'oidc-01-signed-out-with-provider-button.png');
      await button.click();
      // The provider's own pages (oidc-provider's development interactions).
      await page.waitForURL((url) => url.href.startsWith(op.issuer), { timeout: 15_000 });
      await page.locator('input[name="login"]').fill('pat');
      await page.locator('input[name="password"]').fill('any');
      await screenshot(page, 'oidc-02-provider-login.png');
      await page.locator('button[type="submit"]').first().click();
      await page.waitForURL(
        (url) => url.href.startsWith(op.issuer) && /interaction/.test(url.href),
        {
          timeout: 15_000,
        },
      );
      await page.locator('button[type="submit"]').first().click();
      // Back on the account page, signed in.
      await page.waitForURL((url) => url.href.startsWith(`${origin}/account`), { timeout: 15_000 });
      await page.waitForFunction(
        () => {
          const { document } = globalThis as unknown as PageGlobals;
          return (
            (document.getElementById('status')?.textContent ?? '').includes('Signed in') ||
            Boolean(document.getElementById('error')?.textContent)
          );
        },
        undefined,
        { timeout: 15_000 },
      );
      const state = await page.evaluate(() => {
        const { document, sessionStorage, location } = globalThis as unknown as PageGlobals;
        return {
          error: document.getElementById('error')?.textContent ?? '',
          profile: document.getElementById('profile')?.textContent ?? '',
          stored: sessionStorage.length,
          hash: location.hash,
          href: location.href,
        };
      });
      await screenshot(page, 'oidc-03-signed-in-through-provider.png');
      expect(state.error).toBe('');
      expect(state.profile).toContain('pat-browser@example.com');
      // The verifier was removed before the exchange; the code left the address bar.
      expect(state.stored).toBe(0);
      expect(state.hash).toBe('');
      expect(state.href).toBe(`${origin}/account`);
      expect(await page.locator('#signed-in').isVisible()).toBe(true);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

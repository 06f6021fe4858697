import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import type { Browser, Page } from 'playwright-core';

import type { TestApp } from '../support/app.js';
import { createTestApp } from '../support/app.js';
import { ARTIFACTS, launchChromium } from '../support/browser.js';

/**
 * A person's path through Swagger UI in a real (headless) Chromium: sign up and log in with
 * "Try it out", paste the token into "Authorize", create a movie, and see the 201.
 */
describe('Swagger UI in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;

  beforeAll(async () => {
    t = await createTestApp({ label: 'browser' });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = await t.app.getUrl();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  /** Opens an operation, presses "Try it out", fills the JSON body, executes, returns the status. */
  async function tryItOut(
    operationId: string,
    body: object,
  ): Promise<{ status: number; text: string }> {
    const operation = page.locator(`[id$="-${operationId}"]`).first();
    await operation.locator('.opblock-summary').first().click();
    await operation.locator('button.try-out__btn').click();
    await operation.locator('textarea.body-param__text').fill(JSON.stringify(body));
    await operation.locator('button.execute').click();
    const response = operation.locator('.live-responses-table .response').first();
    await response.waitFor({ timeout: 15_000 });
    const status = Number((await response.locator('.response-col_status').innerText()).trim());
    const text = await response.locator('.response-col_description pre').first().innerText();
    return { status, text };
  }

  it('signs up, logs in, authorizes and creates a movie through the UI', async () => {
    await page.goto(`${baseUrl.replace('[::1]', '127.0.0.1')}/api/docs`);
    await page.locator('.swagger-ui .information-container').waitFor({ timeout: 15_000 });

    const email = `browser-${Date.now()}@example.com`;
    const password = 'Br0wser!pass';
    const signup = await tryItOut('AuthController_signup', { email, password, name: 'Browser' });
    expect(signup.status).toBe(201);

    const login = await tryItOut('AuthController_login', { email, password });
    expect(login.status).toBe(200);
    const { accessToken } = JSON.parse(login.text) as { accessToken: string };
    expect(accessToken.split('.')).toHaveLength(3);

    await page.locator('button.authorize').first().click();
    const dialog = page.locator('.dialog-ux .modal-ux');
    // Two schemes: the access token (bearer) and an API key; the token goes into the first.
    const bearer = dialog.locator('form').filter({ hasText: 'bearer (http, Bearer)' });
    await bearer.locator('input[type="text"]').fill(accessToken);
    await bearer.locator('button.authorize').click();
    await dialog.locator('button.btn-done').first().click();
    // The authorization is not persisted: nothing of the token in the page's localStorage.
    const stored = String(await page.evaluate('JSON.stringify(window.localStorage)'));
    expect(stored).not.toContain(accessToken);

    const movie = await tryItOut('MoviesController_create', {
      name: 'Made in Swagger UI',
      casts: ['Browser'],
      genres: ['documentary'],
    });
    expect(movie.status).toBe(201);
    expect(JSON.parse(movie.text)).toMatchObject({ name: 'Made in Swagger UI' });

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'swagger-ui.png'), fullPage: false });
  }, 90_000);
});

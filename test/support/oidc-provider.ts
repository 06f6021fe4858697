import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { IdTokenInstance } from 'oidc-provider';
import Provider from 'oidc-provider';

/** A person at the test provider; the test decides what the provider says about them. */
export interface ProviderPerson {
  email: string;
  emailVerified: boolean;
  name?: string;
}

export interface TestClient {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

export interface TestProvider {
  issuer: string;
  /** People by account id (what the login form's `login` field names); edit freely. */
  people: Map<string, ProviderPerson>;
  /** ID tokens minted from now on name this audience instead of the client (null: the client). */
  wrongAudience: string | null;
  /** ID tokens minted from now on carry this `amr` (null: none). */
  amr: string[] | null;
  close(): Promise<void>;
}

/**
 * A real OpenID Provider (oidc-provider 9) on a free port of 127.0.0.1: its development login and
 * consent pages, PKCE required, the given clients (client_secret_post). Accounts are `people`:
 * sub is the account id typed into the login form.
 */
export async function startTestProvider(clients: TestClient[]): Promise<TestProvider> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;
  const people = new Map<string, ProviderPerson>();
  const state: Pick<TestProvider, 'wrongAudience' | 'amr'> = { wrongAudience: null, amr: null };

  const provider = new Provider(issuer, {
    clients: clients.map((client) => ({
      client_id: client.clientId,
      client_secret: client.clientSecret,
      redirect_uris: [client.redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    })),
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    cookies: { keys: ['test-provider-cookie-key-0123456789'] },
    findAccount: (_ctx: unknown, id: string) => {
      const person = people.get(id);
      if (!person) return undefined;
      return {
        accountId: id,
        claims: () =>
          Promise.resolve({
            sub: id,
            email: person.email,
            email_verified: person.emailVerified,
            ...(person.name ? { name: person.name } : {}),
          }),
      };
    },
  });

  // The misbehaving provider of the attack tests: the ID token names another audience, or
  // carries an `amr`, signed with the provider's own key like any other.
  const issue = provider.IdToken.prototype.issue;
  provider.IdToken.prototype.issue = function (this: IdTokenInstance, options) {
    if (state.amr) this.set('amr', state.amr);
    if (state.wrongAudience !== null && options?.use === 'idtoken') {
      const audience = state.wrongAudience;
      const real = this.client;
      this.client = new Proxy(real, {
        get: (target, key) =>
          key === 'clientId' ? audience : (Reflect.get(target, key) as unknown),
      });
    }
    return issue.call(this, options);
  };

  server.on('request', provider.callback());
  const result: TestProvider = {
    issuer,
    people,
    get wrongAudience() {
      return state.wrongAudience;
    },
    set wrongAudience(value) {
      state.wrongAudience = value;
    },
    get amr() {
      return state.amr;
    },
    set amr(value) {
      state.amr = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return result;
}

/** A browser of sorts: keeps cookies per host, follows nothing by itself. */
export class CookieClient {
  private readonly jar = new Map<string, Map<string, string>>();

  async request(
    url: string,
    init: { method?: string; form?: Record<string, string> } = {},
  ): Promise<{ status: number; location: string | null; body: string }> {
    const target = new URL(url);
    const cookies = this.jar.get(target.host) ?? new Map<string, string>();
    const headers: Record<string, string> = {};
    if (cookies.size > 0) {
      headers.cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    }
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(target, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      headers,
      body,
      redirect: 'manual',
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const expired = /max-age=0|expires=thu, 01 jan 1970/i.test(line);
      if (expired || value === '') cookies.delete(name);
      else cookies.set(name, value);
    }
    this.jar.set(target.host, cookies);
    const location = res.headers.get('location');
    return {
      status: res.status,
      location: location ? new URL(location, target).href : null,
      body: await res.text(),
    };
  }
}

/**
 * Drives the provider from its authorization URL through its real login and consent pages as
 * `accountId` (or, with `abort`, cancels on the login page, as a person declining would), and
 * answers the URL it finally redirects to (the relying party's callback).
 */
export async function signInAtProvider(
  browser: CookieClient,
  authorizationUrl: string,
  accountId: string,
  callbackPrefix: string,
  { abort = false }: { abort?: boolean } = {},
): Promise<string> {
  let url = authorizationUrl;
  for (let step = 0; step < 20; step++) {
    if (url.startsWith(callbackPrefix)) return url;
    const page = await browser.request(url);
    if (page.location) {
      url = page.location;
      continue;
    }
    if (page.status !== 200) throw new Error(`provider answered ${page.status} at ${url}`);
    const action = /<form[^>]*action="([^"]+)"/.exec(page.body)?.[1];
    const prompt = /name="prompt" value="([a-z]+)"/.exec(page.body)?.[1];
    if (!action || !prompt) throw new Error(`no interaction form at ${url}`);
    if (abort) {
      const cancel = /href="([^"]*\/abort)"/.exec(page.body)?.[1];
      if (!cancel) throw new Error(`no abort link at ${url}`);
      url = new URL(cancel, url).href;
      continue;
    }
    const form: Record<string, string> =
      prompt === 'login' ? { prompt, login: accountId, password: 'any' } : { prompt };
    const submitted = await browser.request(new URL(action, url).href, { form });
    if (!submitted.location) throw new Error(`the ${prompt} form answered ${submitted.status}`);
    url = submitted.location;
  }
  throw new Error('the provider never redirected back');
}

/** One OpenID Provider the kit signs users in with. */
export interface OidcProviderOptions {
  /** Short name in URLs (`/auth/oidc/<id>/start`): lower-case letters, digits, `-`, `_`. */
  id: string;
  /** What a front end shows on the button ("Google"). */
  name: string;
  /** The issuer URL; its `/.well-known/openid-configuration` is read on first use. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Default `openid email profile`; `openid` and `email` are always asked for. */
  scopes?: string[];
}

const PROVIDER_ID = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const KEYS = new Set(['id', 'name', 'issuer', 'clientId', 'clientSecret', 'scopes']);

const isLocalhost = (url: URL): boolean =>
  ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);

/**
 * Parses and checks `OIDC_PROVIDERS` (a JSON array). Returns the providers, or the problems, each
 * naming the entry and field (never a secret's value).
 */
export function parseOidcProviders(
  json: string,
  { allowHttp }: { allowHttp: boolean },
): { providers: OidcProviderOptions[]; problems: string[] } {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return { providers: [], problems: ['must be a JSON array of providers'] };
  }
  if (!Array.isArray(value)) {
    return { providers: [], problems: ['must be a JSON array of providers'] };
  }
  const problems: string[] = [];
  const providers: OidcProviderOptions[] = [];
  const ids = new Set<string>();
  value.forEach((entry: unknown, index) => {
    const at = `entry ${index}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(
        `${at}: must be an object { id, name, issuer, clientId, clientSecret, scopes? }`,
      );
      return;
    }
    const raw = entry as Record<string, unknown>;
    const before = problems.length;
    for (const key of Object.keys(raw)) {
      if (!KEYS.has(key)) problems.push(`${at}: unknown field "${key}"`);
    }
    const text = (key: string): string => {
      const field = raw[key];
      if (typeof field !== 'string' || field.trim() === '') {
        problems.push(`${at}: ${key} is required (a non-empty string)`);
        return '';
      }
      return field.trim();
    };
    const id = text('id');
    const name = text('name');
    const issuer = text('issuer');
    const clientId = text('clientId');
    const clientSecret = text('clientSecret');
    if (id && !PROVIDER_ID.test(id)) {
      problems.push(`${at}: id must be 1-32 lower-case letters, digits, - or _`);
    } else if (ids.has(id)) problems.push(`${at}: id "${id}" is used twice`);
    ids.add(id);
    if (issuer) {
      let url: URL | undefined;
      try {
        url = new URL(issuer);
      } catch {
        problems.push(`${at}: issuer must be a URL`);
      }
      if (url && url.protocol !== 'https:' && !(url.protocol === 'http:' && allowHttp)) {
        problems.push(
          `${at}: issuer must be an https:// URL` +
            (url.protocol === 'http:' && isLocalhost(url)
              ? ' (http:// only with OIDC_ALLOW_INSECURE_ISSUERS=true)'
              : ''),
        );
      }
    }
    let scopes: string[] | undefined;
    if (raw.scopes !== undefined) {
      if (
        !Array.isArray(raw.scopes) ||
        !raw.scopes.every((scope) => typeof scope === 'string' && /^[\x21-\x7e]+$/.test(scope))
      ) {
        problems.push(`${at}: scopes must be an array of scope names`);
      } else scopes = raw.scopes as string[];
    }
    if (problems.length === before) {
      providers.push({ id, name, issuer, clientId, clientSecret, ...(scopes ? { scopes } : {}) });
    }
  });
  return { providers, problems };
}

/** Whether http:// issuers may be used: outside production, or every issuer on this machine. */
export function insecureIssuersAllowed(
  providers: readonly Pick<OidcProviderOptions, 'issuer'>[],
  production: boolean,
): boolean {
  return !production || providers.every((provider) => isLocalhost(new URL(provider.issuer)));
}

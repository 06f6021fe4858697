/**
 * The account page's script (bundled with @simplewebauthn/browser by scripts/account-page.mjs).
 * It is one more client of the API: every action is a request to /api. The tokens live in this
 * module's variables only — never localStorage, sessionStorage or a cookie — so closing or
 * reloading the tab signs out. API text reaches the page through textContent only. The one thing
 * kept in sessionStorage is a provider sign-in's verifier, across the redirect to the provider and
 * back, removed before the exchange (it is no token: it binds the one-time code to this tab).
 */
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/browser';
import { startAuthentication, startRegistration } from '@simplewebauthn/browser';

interface TokenPair {
  accessToken: string;
  refreshToken: string;
}

interface MfaChallenge {
  mfaRequired: true;
  mfaToken: string;
}

interface User {
  id: string;
  email: string;
  name: string;
  role: string;
  mfaEnabled: boolean;
  emailVerified: boolean;
  createdAt: string;
}

interface Passkey {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  backedUp: boolean;
}

interface Session {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  ip: string | null;
  userAgent: string | null;
  current: boolean;
}

interface Page<T> {
  items: T[];
}

/** An answer of the API that is not a 2xx, with the message it gave. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly wwwAuthenticate: string | null,
  ) {
    super(message);
  }

  /** RFC 9470: the action needs a more recent authentication of this session. */
  get needsRecentAuth(): boolean {
    return (
      this.status === 401 &&
      (this.wwwAuthenticate ?? '').includes('insufficient_user_authentication')
    );
  }
}

/** Thrown when the person closes the "confirm it is you" dialog. */
class Cancelled extends Error {}

// ---- tokens: in memory only ----
let tokens: TokenPair | null = null;

// ---- elements ----
function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element as T;
}

function input(id: string): HTMLInputElement {
  return byId<HTMLInputElement>(id);
}

/** An element with text content and children; never HTML from a string. */
function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string,
  ...children: Node[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (text !== undefined) element.textContent = text;
  element.append(...children);
  return element;
}

function button(text: string, onClick: () => Promise<void>): HTMLButtonElement {
  const element = el('button', text);
  element.type = 'button';
  element.addEventListener('click', () => void run(onClick));
  return element;
}

function show(id: string, visible: boolean): void {
  byId(id).hidden = !visible;
}

function say(text: string): void {
  byId('error').textContent = '';
  byId('status').textContent = text;
}

function sayError(text: string): void {
  byId('status').textContent = '';
  byId('error').textContent = text;
}

const when = (iso: string | null): string => (iso ? new Date(iso).toLocaleString() : 'never');

/** Runs one user action; whatever goes wrong is shown as text. */
async function run(action: () => Promise<void>): Promise<void> {
  byId('error').textContent = '';
  byId('status').textContent = '';
  try {
    await action();
  } catch (error) {
    if (error instanceof Cancelled) return say('Cancelled.');
    sayError(describe(error));
  }
}

function describe(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) {
    // WebAuthn: the person dismissed the prompt, or no passkey matched.
    if (error.name === 'NotAllowedError') return 'The passkey prompt was closed or timed out.';
    return error.message;
  }
  return String(error);
}

// ---- the API ----
async function call<T>(
  method: string,
  path: string,
  body?: unknown,
  options: { auth?: boolean; retried?: boolean } = {},
): Promise<T> {
  const auth = options.auth ?? true;
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (auth && tokens) headers.authorization = `Bearer ${tokens.accessToken}`;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'omit',
    cache: 'no-store',
  });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const data: unknown = text ? JSON.parse(text) : undefined;
  if (response.ok) return data as T;
  const error = new ApiError(
    response.status,
    messageOf(data, response.status),
    response.headers.get('www-authenticate'),
  );
  // An expired access token: rotate the refresh token once and try again.
  if (error.status === 401 && auth && tokens && !error.needsRecentAuth && !options.retried) {
    if (await refresh()) return call<T>(method, path, body, { ...options, retried: true });
  }
  throw error;
}

function messageOf(data: unknown, status: number): string {
  const message = (data as { message?: unknown } | undefined)?.message;
  if (Array.isArray(message)) return message.map(String).join('\n');
  if (typeof message === 'string') return message;
  return `The server answered ${status}.`;
}

async function refresh(): Promise<boolean> {
  if (!tokens) return false;
  try {
    const pair = await call<TokenPair>(
      'POST',
      '/api/auth/refresh',
      { refreshToken: tokens.refreshToken },
      { auth: false },
    );
    tokens = { accessToken: pair.accessToken, refreshToken: pair.refreshToken };
    return true;
  } catch {
    signedOut('Your session ended: sign in again.');
    return false;
  }
}

/** Calls `action`; when the API asks for a recent sign-in, asks for it and tries once more. */
async function withRecentAuth<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof ApiError) || !error.needsRecentAuth) throw error;
    await reauthenticate();
    return action();
  }
}

// ---- re-authentication dialog ----
function reauthenticate(): Promise<void> {
  const dialog = byId<HTMLDialogElement>('reauth-dialog');
  const form = byId<HTMLFormElement>('reauth-form');
  const password = input('reauth-password');
  const problem = byId('reauth-error');
  password.value = '';
  problem.textContent = '';
  // A passkey is offered only where this server has passkeys (their section is shown).
  byId('reauth-passkey').hidden = byId('passkeys').hidden;
  return new Promise<void>((resolve, reject) => {
    const finish = (outcome: () => void): void => {
      form.removeEventListener('submit', onSubmit);
      byId('reauth-passkey').removeEventListener('click', onPasskey);
      byId('reauth-cancel').removeEventListener('click', onCancel);
      dialog.removeEventListener('cancel', onCancel);
      dialog.close();
      outcome();
    };
    const attempt = async (proof: () => Promise<{ accessToken: string }>): Promise<void> => {
      try {
        const answer = await proof();
        if (tokens) tokens = { ...tokens, accessToken: answer.accessToken };
        finish(resolve);
      } catch (error) {
        problem.textContent = describe(error);
      }
    };
    const onSubmit = (event: SubmitEvent): void => {
      event.preventDefault();
      void attempt(() => call('POST', '/api/auth/reauthenticate', { password: password.value }));
    };
    const onPasskey = (): void => {
      void attempt(async () => {
        const optionsJSON = await call<PublicKeyCredentialRequestOptionsJSON>(
          'POST',
          '/api/auth/reauthenticate/options',
        );
        const passkey = await startAuthentication({ optionsJSON });
        return call('POST', '/api/auth/reauthenticate', { passkey });
      });
    };
    const onCancel = (event: Event): void => {
      event.preventDefault();
      finish(() => reject(new Cancelled()));
    };
    form.addEventListener('submit', onSubmit);
    byId('reauth-passkey').addEventListener('click', onPasskey);
    byId('reauth-cancel').addEventListener('click', onCancel);
    dialog.addEventListener('cancel', onCancel);
    dialog.showModal();
    password.focus();
  });
}

// ---- signing in and out ----
let mfaToken: string | null = null;

async function signedIn(pair: TokenPair): Promise<void> {
  tokens = { accessToken: pair.accessToken, refreshToken: pair.refreshToken };
  mfaToken = null;
  byId<HTMLFormElement>('login-form').reset();
  byId<HTMLFormElement>('mfa-form').reset();
  show('mfa-form', false);
  show('signed-out', false);
  show('signed-in', true);
  await loadAccount();
  await confirmPendingLink();
  say('Signed in.');
}

function signedOut(message: string): void {
  tokens = null;
  mfaToken = null;
  show('signed-in', false);
  show('signed-out', true);
  show('mfa-form', false);
  for (const id of ['profile', 'passkey-list', 'session-list', 'recovery-codes']) {
    byId(id).replaceChildren();
  }
  show('totp-enrol', false);
  show('recovery', false);
  say(message);
}

async function login(): Promise<void> {
  const answer = await call<TokenPair | MfaChallenge>(
    'POST',
    '/api/auth/login',
    { email: input('login-email').value, password: input('login-password').value },
    { auth: false },
  );
  if ('mfaRequired' in answer) {
    mfaToken = answer.mfaToken;
    show('mfa-form', true);
    input('mfa-code').focus();
    say('Password accepted: now the second factor.');
    return;
  }
  await signedIn(answer);
}

async function finishMfa(): Promise<void> {
  if (!mfaToken) throw new Error('Sign in with your password first.');
  const code = input('mfa-code').value.trim();
  const recoveryCode = input('mfa-recovery').value.trim();
  const answer = await call<TokenPair>(
    'POST',
    '/api/auth/login/mfa',
    code ? { mfaToken, code } : { mfaToken, recoveryCode },
    { auth: false },
  );
  await signedIn(answer);
}

async function finishMfaWithPasskey(): Promise<void> {
  if (!mfaToken) throw new Error('Sign in with your password first.');
  const optionsJSON = await call<PublicKeyCredentialRequestOptionsJSON>(
    'POST',
    '/api/auth/login/mfa/passkey/options',
    { mfaToken },
    { auth: false },
  );
  const response = await startAuthentication({ optionsJSON });
  await signedIn(
    await call<TokenPair>(
      'POST',
      '/api/auth/login/mfa/passkey',
      { mfaToken, response },
      {
        auth: false,
      },
    ),
  );
}

async function loginWithPasskey(): Promise<void> {
  const optionsJSON = await call<PublicKeyCredentialRequestOptionsJSON>(
    'POST',
    '/api/auth/passkeys/login/options',
    undefined,
    { auth: false },
  );
  const response: AuthenticationResponseJSON = await startAuthentication({ optionsJSON });
  await signedIn(
    await call<TokenPair>('POST', '/api/auth/passkeys/login', { response }, { auth: false }),
  );
}

// ---- sign-in with an OpenID Connect provider (docs/oidc.md) ----
interface Provider {
  id: string;
  name: string;
  startUrl: string;
}

const VERIFIER_KEY = 'guardhouse.oidc.verifier';

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** One button per provider; none (and the row hidden) when the API has none. */
async function loadProviders(): Promise<void> {
  const providers = await call<Provider[]>('GET', '/api/auth/providers', undefined, {
    auth: false,
  });
  byId('providers').replaceChildren(
    ...providers.map((provider) =>
      button(`Sign in with ${provider.name}`, () => startProviderSignIn(provider)),
    ),
  );
  show('providers', providers.length > 0);
}

/** A verifier for this tab (kept for the redirect only), its challenge to the start URL. */
async function startProviderSignIn(provider: Provider): Promise<void> {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  sessionStorage.setItem(VERIFIER_KEY, verifier);
  const url = new URL(provider.startUrl, location.href);
  url.searchParams.set('redirect', `${location.origin}${location.pathname}`);
  url.searchParams.set('challenge', base64url(new Uint8Array(digest)));
  location.assign(url.href);
}

/** Back from a provider: `#code`, `#error` or `#link_code` in the fragment, cleared at once. */
async function finishProviderSignIn(): Promise<void> {
  if (location.hash.length < 2) return;
  const params = new URLSearchParams(location.hash.slice(1));
  history.replaceState(null, '', `${location.pathname}${location.search}`);
  const verifier = sessionStorage.getItem(VERIFIER_KEY);
  sessionStorage.removeItem(VERIFIER_KEY);
  const error = params.get('error');
  if (error) throw new Error(`The sign-in with the provider did not succeed (${error}).`);
  const linkCode = params.get('link_code');
  if (linkCode) {
    pendingLink = { code: linkCode, verifier };
    say('Sign in to finish linking the provider account.');
    return;
  }
  const code = params.get('code');
  if (!code) return;
  if (!verifier) throw new Error('This sign-in was not started in this tab: start it again.');
  const answer = await call<TokenPair | MfaChallenge>(
    'POST',
    '/api/auth/oidc/exchange',
    { code, verifier },
    { auth: false },
  );
  if ('mfaRequired' in answer) {
    mfaToken = answer.mfaToken;
    show('mfa-form', true);
    input('mfa-code').focus();
    say('Signed in with the provider: now the second factor.');
    return;
  }
  await signedIn(answer);
}

/** A link the browser came back with while signed out: confirmed once signed in. */
let pendingLink: { code: string; verifier: string | null } | null = null;

async function confirmPendingLink(): Promise<void> {
  const link = pendingLink;
  pendingLink = null;
  if (!link) return;
  await call('POST', '/api/auth/identities/confirm', {
    code: link.code,
    ...(link.verifier ? { verifier: link.verifier } : {}),
  });
}

async function signup(): Promise<void> {
  const email = input('signup-email').value;
  const answer = await call<{ id?: string }>(
    'POST',
    '/api/auth/signup',
    { name: input('signup-name').value, email, password: input('signup-password').value },
    { auth: false },
  );
  byId<HTMLFormElement>('signup-form').reset();
  input('login-email').value = email;
  input('login-password').focus();
  say(
    answer.id
      ? 'Account created: sign in with it.'
      : 'Check your mail for the link that confirms your address, then sign in.',
  );
}

async function logout(): Promise<void> {
  if (tokens) {
    await call('POST', '/api/auth/logout', { refreshToken: tokens.refreshToken }, { auth: false });
  }
  signedOut('Signed out.');
}

// ---- the signed-in view ----
async function loadAccount(): Promise<void> {
  await Promise.all([loadProfile(), loadPasskeys(), loadTotp(), loadSessions()]);
}

async function loadProfile(): Promise<void> {
  const me = await call<User>('GET', '/api/users/me');
  const rows: [string, string][] = [
    ['Name', me.name],
    ['Email', me.email],
    ['Email verified', me.emailVerified ? 'yes' : 'no'],
    ['Role', me.role],
    ['Second factor', me.mfaEnabled ? 'on' : 'off'],
    ['Member since', when(me.createdAt)],
  ];
  byId('profile').replaceChildren(
    ...rows.flatMap(([term, value]) => [el('dt', term), el('dd', value)]),
  );
}

/** A section whose API is switched off on this server (404) is hidden. */
function hideWhenSwitchedOff(section: string, error: unknown): void {
  if (error instanceof ApiError && error.status === 404) {
    show(section, false);
    return;
  }
  throw error;
}

async function loadPasskeys(): Promise<void> {
  let passkeys: Passkey[];
  try {
    passkeys = await call<Passkey[]>('GET', '/api/auth/passkeys');
  } catch (error) {
    return hideWhenSwitchedOff('passkeys', error);
  }
  show('passkeys', true);
  const list = byId('passkey-list');
  if (passkeys.length === 0) {
    list.replaceChildren(el('li', 'No passkeys yet.'));
    return;
  }
  list.replaceChildren(...passkeys.map(passkeyItem));
}

function passkeyItem(passkey: Passkey): HTMLLIElement {
  const item = el('li');
  item.dataset.passkeyId = passkey.id;
  const name = el('strong', passkey.name);
  name.className = 'passkey-name';
  const meta = el(
    'span',
    ` — added ${when(passkey.createdAt)}, last used ${when(passkey.lastUsedAt)}` +
      (passkey.backedUp ? ', synced' : ''),
  );
  meta.className = 'meta';

  const rename = el('form');
  rename.className = 'inline';
  const field = el('input');
  field.value = passkey.name;
  field.maxLength = 64;
  field.required = true;
  field.setAttribute('aria-label', `New name for ${passkey.name}`);
  const save = el('button', 'Rename');
  save.type = 'submit';
  rename.append(field, save);
  rename.addEventListener('submit', (event) => {
    event.preventDefault();
    void run(async () => {
      await call('PATCH', `/api/auth/passkeys/${encodeURIComponent(passkey.id)}`, {
        name: field.value,
      });
      await loadPasskeys();
      say('Passkey renamed.');
    });
  });

  const remove = button('Remove', async () => {
    await withRecentAuth(() =>
      call('DELETE', `/api/auth/passkeys/${encodeURIComponent(passkey.id)}`),
    );
    await loadPasskeys();
    say('Passkey removed.');
  });
  remove.setAttribute('aria-label', `Remove ${passkey.name}`);
  rename.append(remove);
  item.append(name, meta, rename);
  return item;
}

async function addPasskey(): Promise<void> {
  const name = input('passkey-name').value.trim();
  const optionsJSON = await withRecentAuth(() =>
    call<PublicKeyCredentialCreationOptionsJSON>('POST', '/api/auth/passkeys/registration/options'),
  );
  const response = await startRegistration({ optionsJSON });
  await withRecentAuth(() =>
    call('POST', '/api/auth/passkeys/registration', name ? { response, name } : { response }),
  );
  byId<HTMLFormElement>('passkey-add-form').reset();
  await loadPasskeys();
  say('Passkey added.');
}

async function loadTotp(): Promise<void> {
  let status: { totpEnabled: boolean; recoveryCodesRemaining: number };
  try {
    status = await call('GET', '/api/auth/mfa');
  } catch (error) {
    return hideWhenSwitchedOff('totp', error);
  }
  show('totp', true);
  byId('totp-state').textContent = status.totpEnabled
    ? `On. Recovery codes left: ${status.recoveryCodesRemaining}.`
    : 'Off.';
  show('totp-start-form', !status.totpEnabled);
  show('totp-disable-form', status.totpEnabled);
}

async function startTotp(): Promise<void> {
  const password = input('totp-start-password').value;
  const enrolment = await withRecentAuth(() =>
    call<{ secret: string; qrCode: string }>('POST', '/api/auth/mfa/totp', { password }),
  );
  byId<HTMLFormElement>('totp-start-form').reset();
  if (!enrolment.qrCode.startsWith('data:image/png;base64,')) {
    throw new Error('The server sent no QR code.');
  }
  byId<HTMLImageElement>('totp-qr').src = enrolment.qrCode;
  byId('totp-secret').textContent = enrolment.secret;
  show('totp-start-form', false);
  show('totp-enrol', true);
  input('totp-confirm-code').focus();
  say('Scan the QR code, then confirm with a code from the app.');
}

async function confirmTotp(): Promise<void> {
  const { recoveryCodes } = await call<{ recoveryCodes: string[] }>(
    'POST',
    '/api/auth/mfa/totp/confirm',
    { code: input('totp-confirm-code').value.trim() },
  );
  byId<HTMLFormElement>('totp-confirm-form').reset();
  byId<HTMLImageElement>('totp-qr').removeAttribute('src');
  byId('totp-secret').textContent = '';
  show('totp-enrol', false);
  byId('recovery-codes').replaceChildren(...recoveryCodes.map((code) => el('li', code)));
  show('recovery', true);
  await Promise.all([loadTotp(), loadProfile()]);
  say('The second factor is on.');
}

async function disableTotp(): Promise<void> {
  const body = {
    password: input('totp-disable-password').value,
    code: input('totp-disable-code').value.trim(),
  };
  await withRecentAuth(() => call('DELETE', '/api/auth/mfa/totp', body));
  byId<HTMLFormElement>('totp-disable-form').reset();
  show('recovery', false);
  await Promise.all([loadTotp(), loadProfile()]);
  say('The second factor is off.');
}

async function loadSessions(): Promise<void> {
  let page: Page<Session>;
  try {
    page = await call<Page<Session>>('GET', '/api/auth/sessions?limit=100');
  } catch (error) {
    return hideWhenSwitchedOff('sessions', error);
  }
  show('sessions', true);
  byId('session-list').replaceChildren(...page.items.map(sessionItem));
}

function sessionItem(session: Session): HTMLLIElement {
  const item = el('li');
  item.dataset.sessionId = session.id;
  const where = `${session.userAgent ?? 'Unknown client'} (${session.ip ?? 'unknown address'})`;
  item.append(el('span', session.current ? `${where} — this browser` : where), el('br'));
  const meta = el(
    'span',
    `Signed in ${when(session.createdAt)}, last active ${when(session.lastUsedAt)} `,
  );
  meta.className = 'meta';
  item.append(meta);
  if (!session.current) {
    const end = button('End', async () => {
      await call('DELETE', `/api/auth/sessions/${encodeURIComponent(session.id)}`);
      await loadSessions();
      say('Session ended.');
    });
    end.setAttribute('aria-label', `End the session signed in ${when(session.createdAt)}`);
    item.append(end);
  }
  return item;
}

// ---- wiring ----
function onSubmit(id: string, handler: () => Promise<void>): void {
  byId<HTMLFormElement>(id).addEventListener('submit', (event) => {
    event.preventDefault();
    void run(handler);
  });
}

function start(): void {
  onSubmit('login-form', login);
  onSubmit('mfa-form', finishMfa);
  onSubmit('signup-form', signup);
  onSubmit('passkey-add-form', addPasskey);
  onSubmit('totp-start-form', startTotp);
  onSubmit('totp-confirm-form', confirmTotp);
  onSubmit('totp-disable-form', disableTotp);
  byId('passkey-login').addEventListener('click', () => void run(loginWithPasskey));
  byId('mfa-passkey').addEventListener('click', () => void run(finishMfaWithPasskey));
  byId('logout').addEventListener('click', () => void run(logout));
  void run(loadProviders);
  void run(finishProviderSignIn);
  document.body.dataset.ready = 'true';
}

start();

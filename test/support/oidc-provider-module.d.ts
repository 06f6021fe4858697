// The few parts of oidc-provider 9 (no bundled types) the test provider uses.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface ProviderAccount {
    accountId: string;
    claims(use: string, scope: string): Promise<Record<string, unknown>>;
  }

  export interface IdTokenInstance {
    client: { clientId: string };
    set(key: string, value: unknown): void;
  }

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    IdToken: {
      prototype: IdTokenInstance & { issue(options?: { use?: string }): Promise<string> };
    };
  }
}

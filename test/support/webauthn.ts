import type { KeyObject } from 'node:crypto';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

/**
 * A software WebAuthn authenticator for tests (ES256 on P-256, "none" attestation, resident
 * keys): it answers the server's options the way a browser and authenticator would, and every
 * part of its answer can be tampered with (origin, RP ID, challenge, flags, counter, credential).
 */

/** The app's defaults in tests: PUBLIC_URL unset → http://localhost:3000. */
export const TEST_ORIGIN = 'http://localhost:3000';
export const TEST_RP_ID = 'localhost';

// ---- a minimal CBOR encoder (RFC 8949): what attestation objects and COSE keys need ----

type Cbor = number | string | Uint8Array | CborMap | CborRecord;
type CborMap = Map<Cbor, Cbor>;
interface CborRecord {
  [key: string]: Cbor;
}

function head(major: number, value: number): Buffer {
  if (value < 24) return Buffer.from([(major << 5) | value]);
  if (value < 0x100) return Buffer.from([(major << 5) | 24, value]);
  if (value < 0x10000) {
    const out = Buffer.alloc(3);
    out[0] = (major << 5) | 25;
    out.writeUInt16BE(value, 1);
    return out;
  }
  const out = Buffer.alloc(5);
  out[0] = (major << 5) | 26;
  out.writeUInt32BE(value, 1);
  return out;
}

export function encodeCbor(value: Cbor): Buffer {
  if (typeof value === 'number') {
    return value >= 0 ? head(0, value) : head(1, -1 - value);
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  return Buffer.concat([
    head(5, entries.length),
    ...entries.flatMap(([k, v]) => [encodeCbor(k), encodeCbor(v)]),
  ]);
}

// ---- the JSON shapes @simplewebauthn/browser produces ----

export interface RegistrationJson {
  id: string;
  rawId: string;
  type: 'public-key';
  response: { clientDataJSON: string; attestationObject: string; transports: string[] };
  clientExtensionResults: Record<string, unknown>;
  authenticatorAttachment?: 'platform' | 'cross-platform';
}

export interface AssertionJson {
  id: string;
  rawId: string;
  type: 'public-key';
  response: {
    clientDataJSON: string;
    authenticatorData: string;
    signature: string;
    userHandle?: string;
  };
  clientExtensionResults: Record<string, unknown>;
  authenticatorAttachment?: 'platform' | 'cross-platform';
}

/** What the server's options carry that the authenticator reads. */
export interface CreationOptions {
  challenge: string;
  rp: { id: string; name: string };
  user: { id: string; name: string };
}
export interface RequestOptions {
  challenge: string;
  rpId?: string;
  allowCredentials?: { id: string }[];
}

/** Parts of an answer to change: what a phishing page, a replay or a clone would send. */
export interface Tampering {
  origin?: string;
  /** The RP ID whose hash goes into the authenticator data. */
  rpId?: string;
  challenge?: string;
  /** The user-verified flag (default true). */
  userVerified?: boolean;
  /** The signature counter to report instead of the next one. */
  counter?: number;
  /** The webauthn.create / webauthn.get type. */
  type?: string;
}

interface StoredCredential {
  id: Buffer;
  privateKey: KeyObject;
  cose: Buffer;
  counter: number;
  userHandle: string;
}

const b64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string): Buffer => createHash('sha256').update(data).digest();

const UP = 0x01;
const UV = 0x04;
const AT = 0x40;

export class SoftAuthenticator {
  private readonly credentials = new Map<string, StoredCredential>();

  constructor(
    readonly origin = TEST_ORIGIN,
    /** Device-bound keys (backup eligible flag off): the server reports amr `hwk`. */
    private readonly backupEligible = false,
  ) {}

  /** The ids of the credentials this authenticator holds (base64url). */
  get ids(): string[] {
    return [...this.credentials.keys()];
  }

  /**
   * Makes a new resident ES256 key for `options` (navigator.credentials.create), or registers
   * the held credential `reuse` again (same id and key) under these options.
   */
  register(options: CreationOptions, tamper: Tampering = {}, reuse?: string): RegistrationJson {
    const credential =
      reuse === undefined ? this.newCredential(options) : this.credentials.get(reuse);
    if (!credential) throw new Error(`this authenticator holds no credential ${reuse}`);
    const { id, cose } = credential;
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(id.length);
    const authData = Buffer.concat([
      this.authDataHead(tamper.rpId ?? options.rp.id, AT | this.flags(tamper), 0),
      Buffer.alloc(16),
      idLength,
      id,
      cose,
    ]);
    const clientData = this.clientData('webauthn.create', options.challenge, tamper);
    return {
      id: b64url(id),
      rawId: b64url(id),
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientData),
        attestationObject: b64url(encodeCbor({ fmt: 'none', attStmt: {}, authData })),
        transports: ['internal'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /**
   * Signs `options`' challenge with `credentialId` (default: the first allowed one this
   * authenticator holds, else its first), counter one up (navigator.credentials.get).
   */
  assert(options: RequestOptions, tamper: Tampering = {}, credentialId?: string): AssertionJson {
    const allowed = options.allowCredentials
      ?.map((c) => c.id)
      .filter((id) => this.credentials.has(id));
    const id = credentialId ?? allowed?.[0] ?? this.ids[0];
    const credential = this.credentials.get(id);
    if (!credential) throw new Error(`this authenticator holds no credential ${id}`);
    const counter = tamper.counter ?? credential.counter + 1;
    credential.counter = Math.max(credential.counter, counter);
    const authData = this.authDataHead(
      tamper.rpId ?? options.rpId ?? TEST_RP_ID,
      this.flags(tamper),
      counter,
    );
    const clientData = this.clientData('webauthn.get', options.challenge, tamper);
    const signature = sign(
      'sha256',
      Buffer.concat([authData, sha256(clientData)]),
      credential.privateKey,
    );
    return {
      id,
      rawId: id,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientData),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        userHandle: credential.userHandle,
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** Another authenticator with copies of this one's keys and counters (a cloned device). */
  clone(): SoftAuthenticator {
    const copy = new SoftAuthenticator(this.origin, this.backupEligible);
    for (const [id, credential] of this.credentials) copy.credentials.set(id, { ...credential });
    return copy;
  }

  private newCredential(options: CreationOptions): StoredCredential {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const cose = encodeCbor(
      new Map<Cbor, Cbor>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x ?? '', 'base64url')],
        [-3, Buffer.from(jwk.y ?? '', 'base64url')],
      ]),
    );
    const credential = {
      id: randomBytes(32),
      privateKey,
      cose,
      counter: 0,
      userHandle: options.user.id,
    };
    this.credentials.set(b64url(credential.id), credential);
    return credential;
  }

  private flags(tamper: Tampering): number {
    return UP | (tamper.userVerified === false ? 0 : UV) | (this.backupEligible ? 0x18 : 0);
  }

  private authDataHead(rpId: string, flags: number, counter: number): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), count]);
  }

  private clientData(type: string, challenge: string, tamper: Tampering): Buffer {
    return Buffer.from(
      JSON.stringify({
        type: tamper.type ?? type,
        challenge: tamper.challenge ?? challenge,
        origin: tamper.origin ?? this.origin,
        crossOrigin: false,
      }),
    );
  }
}

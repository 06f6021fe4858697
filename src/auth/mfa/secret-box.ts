import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const VERSION = 'v1';

/** A 32-byte key from 64 hex digits or base64/base64url; null when it is neither. */
export function parseEncryptionKey(value: string): Buffer | null {
  const text = value.trim();
  if (/^[0-9a-f]{64}$/i.test(text)) return Buffer.from(text, 'hex');
  if (!/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(text)) return null;
  const key = Buffer.from(text.replace(/\+/g, '-').replace(/\//g, '_'), 'base64url');
  return key.length === KEY_BYTES ? key : null;
}

/**
 * AES-256-GCM for TOTP secrets at rest. The owner's id is authenticated data, so a ciphertext
 * copied onto another account does not decrypt there. Also keys the recovery-code hashes (HMAC):
 * a stolen database alone does not let anyone test guesses offline.
 */
export class SecretBox {
  private readonly key: Buffer;
  private readonly hmacKey: Buffer;

  constructor(encryptionKey: string) {
    const key = parseEncryptionKey(encryptionKey);
    if (!key) {
      throw new Error('mfa.encryptionKey must be 32 bytes: 64 hex digits or 44 base64 characters');
    }
    this.key = key;
    this.hmacKey = createHmac('sha256', key).update('guardhouse:recovery-codes').digest();
  }

  seal(plaintext: string, owner: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(owner));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), data]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  /** Throws when the box was sealed with another key, for another owner, or was altered. */
  open(sealed: string, owner: string): string {
    const [version, iv, tag, data] = sealed.split('.');
    if (version !== VERSION || !iv || !tag || data === undefined) {
      throw new Error('Unknown secret format');
    }
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(owner));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([
      decipher.update(Buffer.from(data, 'base64url')),
      decipher.final(),
    ]).toString('utf8');
  }

  /** Keyed hash of a recovery code (already normalized). */
  digest(value: string): string {
    return createHmac('sha256', this.hmacKey).update(value).digest('hex');
  }
}

import type { KeyObject } from 'node:crypto';
import { createHash, createPrivateKey, createPublicKey, createSecretKey } from 'node:crypto';

import type { AuthModuleOptions, JwtAlgorithm } from './auth.options.js';

/**
 * Signing and verification keys as `KeyObject`s: jsonwebtoken spends ~300 µs per verify when given
 * a string secret (it tries `createPublicKey` first), ~6 µs with a KeyObject.
 */
export interface TokenKeys {
  algorithm: JwtAlgorithm;
  signKey: KeyObject;
  verifyKey: KeyObject;
  /** Key id placed in the token header; derived from the public key (asymmetric only). */
  keyId?: string;
}

export const TOKEN_KEYS = Symbol('TOKEN_KEYS');

export const MIN_SECRET_LENGTH = 32;

export function createTokenKeys(jwt: AuthModuleOptions['jwt']): TokenKeys {
  const algorithm = jwt.algorithm ?? 'HS256';
  if (algorithm === 'HS256') {
    if (!jwt.secret || jwt.secret.length < MIN_SECRET_LENGTH) {
      throw new Error(`JWT secret must be at least ${MIN_SECRET_LENGTH} characters for HS256`);
    }
    const key = createSecretKey(Buffer.from(jwt.secret, 'utf8'));
    return { algorithm, signKey: key, verifyKey: key };
  }
  if (!jwt.privateKey || !jwt.publicKey) {
    throw new Error(`${algorithm} needs both a private and a public key (PEM)`);
  }
  const signKey = createPrivateKey(jwt.privateKey);
  const verifyKey = createPublicKey(jwt.publicKey);
  const expectedType = algorithm === 'RS256' ? 'rsa' : 'ec';
  if (verifyKey.asymmetricKeyType !== expectedType || signKey.asymmetricKeyType !== expectedType) {
    throw new Error(`${algorithm} needs ${expectedType.toUpperCase()} keys`);
  }
  const der = verifyKey.export({ type: 'spki', format: 'der' });
  const keyId = createHash('sha256').update(der).digest('base64url').slice(0, 16);
  return { algorithm, signKey, verifyKey, keyId };
}

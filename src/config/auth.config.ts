import type { AuthModuleOptions } from '../auth/auth.options.js';
import type { Env } from './env.js';

/** Maps validated settings to the auth kit's options. */
export function authOptionsFromEnv(env: Env): AuthModuleOptions {
  return {
    jwt: {
      algorithm: env.JWT_ALGORITHM,
      secret: env.JWT_SECRET,
      privateKey: env.JWT_PRIVATE_KEY,
      publicKey: env.JWT_PUBLIC_KEY,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      accessTtlSeconds: env.JWT_ACCESS_TTL_SECONDS,
    },
    bcryptRounds: env.BCRYPT_ROUNDS,
    admin: { email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD, name: env.ADMIN_NAME },
  };
}

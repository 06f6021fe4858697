import { jest } from '@jest/globals';
import {
  ForbiddenException,
  InternalServerErrorException,
  UnauthorizedException,
} from '@nestjs/common';
import jwt from 'jsonwebtoken';
import passport from 'passport';
import { Strategy } from 'passport-jwt';

import type { AccessTokenPayload } from '../access-token.js';
import { ACCESS_TOKEN_TYPE } from '../access-token.js';
import type { AuthModuleOptions } from '../auth.options.js';
import type { AuthUser } from '../core/auth-user.js';
import { Role } from '../core/roles.js';
import type { PrincipalService } from '../principal.service.js';
import { createTokenKeys } from '../token-keys.js';
import { JwtStrategy } from './jwt.strategy.js';

const OPTIONS: AuthModuleOptions = {
  jwt: { secret: 'unit-test-secret-of-at-least-32-chars', issuer: 'unit', audience: 'unit-api' },
};

const USER: AuthUser = {
  id: '0123456789abcdef01234567',
  email: 'a@example.com',
  name: 'A',
  role: Role.User,
  active: true,
  emailVerified: true,
  createdAt: new Date(0),
  updatedAt: new Date(0),
};

/** A strategy whose account and session check is `resolve`. */
function strategy(resolve: (payload: AccessTokenPayload) => Promise<AuthUser>): JwtStrategy {
  const principals = { resolve } as unknown as PrincipalService;
  return new JwtStrategy(createTokenKeys(OPTIONS.jwt), OPTIONS, principals);
}

/** A request with an access token for `sub`, signed with the strategy's secret unless told. */
function bearer(
  sub = USER.id,
  secret = OPTIONS.jwt.secret ?? '',
): { headers: Record<string, string> } {
  const token = jwt.sign({ sub, sid: 'session-1' }, secret, {
    issuer: OPTIONS.jwt.issuer,
    audience: OPTIONS.jwt.audience,
    expiresIn: 900,
    header: { alg: 'HS256', typ: ACCESS_TOKEN_TYPE },
  });
  return { headers: { authorization: `Bearer ${token}` } };
}

describe('JwtStrategy.authenticateRequest', () => {
  it("resolves with the account check's user for a valid token, passing it the claims", async () => {
    const seen: AccessTokenPayload[] = [];
    const jwtStrategy = strategy((payload) => {
      seen.push(payload);
      return Promise.resolve(USER);
    });
    await expect(jwtStrategy.authenticateRequest(bearer(), {})).resolves.toBe(USER);
    expect(seen).toEqual([expect.objectContaining({ sub: USER.id, sid: 'session-1' })]);
  });

  it('refuses a request without a token, or with a token signed by another key (401)', async () => {
    const jwtStrategy = strategy(() => Promise.resolve(USER));
    await expect(jwtStrategy.authenticateRequest({ headers: {} }, {})).rejects.toBeInstanceOf(
      UnauthorizedException,
    );
    const forged = bearer(USER.id, 'another-secret-of-at-least-32-chars!!');
    await expect(jwtStrategy.authenticateRequest(forged, {})).rejects.toBeInstanceOf(
      UnauthorizedException,
    );
  });

  it("answers with the account check's own refusal (403 for a disabled account)", async () => {
    const refusal = new ForbiddenException('Account disabled');
    const jwtStrategy = strategy(() => Promise.reject(refusal));
    await expect(jwtStrategy.authenticateRequest(bearer(), {})).rejects.toBe(refusal);
  });

  it('answers 500, not 401, when the check fails with something that is not an Error', async () => {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the case tested
    const jwtStrategy = strategy(() => Promise.reject('database gone'));
    await expect(jwtStrategy.authenticateRequest(bearer(), {})).rejects.toBeInstanceOf(
      InternalServerErrorException,
    );
  });

  it("checks a remembered token without passport-jwt, answering as it would: the check's refusal, 500 for a non-Error", async () => {
    const refusal = new ForbiddenException('Account disabled');
    const answers: (() => Promise<AuthUser>)[] = [
      () => Promise.resolve(USER),
      () => Promise.reject(refusal),
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the case tested
      () => Promise.reject('database gone'),
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the case tested
      () => Promise.reject(undefined),
      () => Promise.resolve(USER),
    ];
    const jwtStrategy = strategy(() => (answers.shift() ?? (() => Promise.resolve(USER)))());
    const verifications = jest.spyOn(Strategy.prototype, 'authenticate');
    try {
      const request = bearer();
      await expect(jwtStrategy.authenticateRequest(request, {})).resolves.toBe(USER);
      await expect(jwtStrategy.authenticateRequest(request, {})).rejects.toBe(refusal);
      await expect(jwtStrategy.authenticateRequest(request, {})).rejects.toBeInstanceOf(
        InternalServerErrorException,
      );
      await expect(jwtStrategy.authenticateRequest(request, {})).rejects.toBeInstanceOf(
        UnauthorizedException,
      );
      await expect(jwtStrategy.authenticateRequest(request, {})).resolves.toBe(USER);
      expect(answers).toEqual([]);
      // Only the first request went through passport-jwt.
      expect(verifications).toHaveBeenCalledTimes(1);
    } finally {
      verifications.mockRestore();
    }
  });

  it('gives each of two concurrent requests its own user, the second from the verified-token cache', async () => {
    const users = new Map([
      ['a', { ...USER, id: 'a' }],
      ['b', { ...USER, id: 'b' }],
    ]);
    const jwtStrategy = strategy(
      (payload) =>
        new Promise((resolve) => setTimeout(() => resolve(users.get(payload.sub) ?? USER), 5)),
    );
    const [a, b] = [bearer('a'), bearer('b')];
    for (let round = 0; round < 2; round++) {
      const answers = await Promise.all([
        jwtStrategy.authenticateRequest(a, {}),
        jwtStrategy.authenticateRequest(b, {}),
      ]);
      expect(answers.map((user) => user.id)).toEqual(['a', 'b']);
    }
  });

  it("registers nothing in passport's default registry, where a host's 'jwt' would replace it", () => {
    strategy(() => Promise.resolve(USER));
    const registry = passport as unknown as { _strategy(name: string): unknown };
    expect(registry._strategy('jwt')).toBeUndefined();
  });
});

import { randomBytes } from 'node:crypto';

import request from 'supertest';

import type { TestApp } from '../support/app.js';
import { createTestApp } from '../support/app.js';
import { expectUnchangedAfter } from '../support/db.js';
import { signupAndLogin } from '../support/users.js';

/**
 * User enumeration by timing: a login for an unknown email must cost about as much as a wrong
 * password for a known one (bcrypt runs in both paths). Medians of a few interleaved attempts, and
 * a wide band: this checks that both paths hash, it is not a benchmark. Skipping bcrypt for
 * unknown emails makes them ~20× faster, far outside the band.
 */
const ATTEMPTS = 5;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

describe('login timing', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      label: 'sec_timing',
      env: { LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000' },
    });
  });

  afterAll(() => t.close());

  it('an unknown email takes about as long as a wrong password', async () => {
    const known = await signupAndLogin(t.app);
    const timeLogin = async (email: string): Promise<number> => {
      const started = process.hrtime.bigint();
      const res = await request(t.app.getHttpServer())
        .post('/api/auth/login')
        .send({ email, password: 'Wrong-pass-1!' });
      const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
      expect(res.status).toBe(401);
      return elapsed;
    };
    const unknownEmail = () => `nobody-${randomBytes(4).toString('hex')}@example.com`;
    const unchanged = await expectUnchangedAfter(t.app, ['users', 'sessions', 'refresh_tokens']);

    await timeLogin(unknownEmail()); // warm-up of both paths
    await timeLogin(known.email);
    const unknown: number[] = [];
    const wrong: number[] = [];
    for (let i = 0; i < ATTEMPTS; i++) {
      unknown.push(await timeLogin(unknownEmail()));
      wrong.push(await timeLogin(known.email));
    }

    const ratio = median(unknown) / median(wrong);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
    await unchanged();
  });
});

import { censorSecrets } from './redact.js';

describe('censorSecrets', () => {
  it('hides secret fields at any depth, in objects and arrays, whatever their case', () => {
    const input = {
      password: 'p0',
      user: { name: 'Ann', RefreshToken: 'r1' },
      deep: { a: { b: { c: { d: { e: { accessToken: 'a6' } } } } } },
      sessions: [{ currentPassword: 'c1' }, { id: 2 }],
      headers: { Authorization: 'Bearer t', cookie: 'sid=1', accept: 'json' },
    };
    expect(censorSecrets(input)).toEqual({
      password: '[REDACTED]',
      user: { name: 'Ann', RefreshToken: '[REDACTED]' },
      deep: { a: { b: { c: { d: { e: { accessToken: '[REDACTED]' } } } } } },
      sessions: [{ currentPassword: '[REDACTED]' }, { id: 2 }],
      headers: { Authorization: '[REDACTED]', cookie: '[REDACTED]', accept: 'json' },
    });
  });

  it('never changes the object it was given, and returns it as is when nothing is secret', () => {
    const input = { user: { password: 'p' }, other: { name: 'x' } };
    const output = censorSecrets(input);
    expect(input.user.password).toBe('p');
    expect(output.other).toBe(input.other);
    const clean = { a: { b: [1, 2] } };
    expect(censorSecrets(clean)).toBe(clean);
  });

  it('survives cycles and leaves class instances to their serializers', () => {
    const cyclic: Record<string, unknown> = { newPassword: 'n' };
    cyclic.self = cyclic;
    const censored = censorSecrets(cyclic);
    expect(censored.newPassword).toBe('[REDACTED]');
    const error = Object.assign(new Error('boom'), { code: 11000 });
    expect(censorSecrets({ err: error }).err).toBe(error);
  });
});

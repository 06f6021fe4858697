import 'reflect-metadata';
import { validateEnv } from './env.js';

const base = { MONGODB_URI: 'mongodb://127.0.0.1/unit' };

describe('validateEnv: password policy and cover limits', () => {
  it('defaults to the length policy and 2 cover jobs, 4 queued, 10 uploads a minute', () => {
    expect(validateEnv(base)).toMatchObject({
      PASSWORD_POLICY: 'length',
      COVER_JOBS_CONCURRENCY: 2,
      COVER_JOBS_QUEUE: 4,
      COVER_UPLOADS_PER_MINUTE: 10,
    });
  });

  it('takes PASSWORD_POLICY=classes', () => {
    expect(validateEnv({ ...base, PASSWORD_POLICY: 'classes' }).PASSWORD_POLICY).toBe('classes');
  });

  it.each([
    ['PASSWORD_POLICY', 'strong'],
    ['COVER_JOBS_CONCURRENCY', '0'],
    ['COVER_JOBS_QUEUE', '-1'],
    ['COVER_UPLOADS_PER_MINUTE', 'many'],
  ])('refuses %s=%s, naming it', (name, value) => {
    expect(() => validateEnv({ ...base, [name]: value })).toThrow(new RegExp(`${name}:`));
  });
});

import type { AuthUser } from '../../core/auth-user.js';
import { Role } from '../../core/roles.js';
import { toUserResponse } from './user-response.dto.js';

const user = (createdAt: Date, updatedAt: Date): AuthUser => ({
  id: '0123456789abcdef01234567',
  email: 'a@example.com',
  name: 'A',
  role: Role.User,
  active: true,
  emailVerified: false,
  createdAt,
  updatedAt,
});

describe('toUserResponse', () => {
  it('writes the dates as JSON would, each its own', () => {
    const created = new Date('2026-01-02T03:04:05.678Z');
    const updated = new Date('2026-12-03T21:00:00.000Z');
    const answer = toUserResponse(user(created, updated));
    expect(answer).toMatchObject({ createdAt: created.toJSON(), updatedAt: updated.toJSON() });
    expect(JSON.parse(JSON.stringify(answer))).toEqual(
      JSON.parse(JSON.stringify({ ...answer, createdAt: created, updatedAt: updated })),
    );
  });

  it('follows a date changed in place (remembered by value, not by object)', () => {
    const date = new Date('2026-01-02T03:04:05.678Z');
    expect(toUserResponse(user(date, date)).updatedAt).toBe('2026-01-02T03:04:05.678Z');
    date.setTime(Date.UTC(2027, 0, 1));
    expect(toUserResponse(user(date, date)).updatedAt).toBe('2027-01-01T00:00:00.000Z');
  });

  it('answers a missing or invalid date as JSON did (left out, or null), never with an error', () => {
    const broken = user(new Date(Number.NaN), undefined as unknown as Date);
    const json = JSON.parse(JSON.stringify(toUserResponse(broken))) as Record<string, unknown>;
    expect(json.createdAt).toBeNull();
    expect('updatedAt' in json).toBe(false);
  });

  it('never carries a password, hash or session detail', () => {
    const withSecrets = { ...user(new Date(0), new Date(0)), sessionId: 's', password: 'p' };
    expect(Object.keys(toUserResponse(withSecrets)).sort()).toEqual(
      [
        'active',
        'createdAt',
        'email',
        'emailVerified',
        'id',
        'mfaEnabled',
        'name',
        'role',
        'updatedAt',
      ].sort(),
    );
  });
});

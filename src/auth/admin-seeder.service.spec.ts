import { jest } from '@jest/globals';

import type { UsersService } from './accounts/users.service.js';
import { AdminSeeder } from './admin-seeder.service.js';
import type { AuditRecorder } from './audit/audit-recorder.service.js';
import type { AuthModuleOptions } from './auth.options.js';
import type { PasswordService } from './password.service.js';

const seeder = (password: string, passwordPolicy?: AuthModuleOptions['passwordPolicy']) => {
  const ensureAdmin = jest.fn(() => Promise.resolve('created' as const));
  const options: AuthModuleOptions = {
    jwt: { issuer: 'i', audience: 'a' },
    admin: { email: 'admin@example.com', password },
    passwordPolicy,
  };
  const service = new AdminSeeder(
    options,
    { ensureAdmin, findByEmail: jest.fn(() => Promise.resolve(null)) } as unknown as UsersService,
    {} as PasswordService,
    { record: jest.fn() } as unknown as AuditRecorder,
  );
  return { service, ensureAdmin };
};

describe('AdminSeeder (the configured admin)', () => {
  it.each(['password', 'admin1234', 'short'])(
    'refuses to start with %p, naming the option',
    async (password) => {
      const { service, ensureAdmin } = seeder(password);
      const error = await service.onApplicationBootstrap().catch((e: Error) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/admin\.password/);
      expect(ensureAdmin).not.toHaveBeenCalled();
    },
  );

  it('never repeats the value: two common passwords get the same message', async () => {
    const message = (password: string) =>
      seeder(password)
        .service.onApplicationBootstrap()
        .catch((e: Error) => e.message);
    expect(await message('admin1234')).toBe(await message('qwerty123'));
  });

  it('applies the classes policy when it is configured', async () => {
    const { service, ensureAdmin } = seeder('correct horse battery staple', 'classes');
    await expect(service.onApplicationBootstrap()).rejects.toThrow(/upper-case letter/);
    expect(ensureAdmin).not.toHaveBeenCalled();
  });

  it('ensures an admin with a password the policy accepts', async () => {
    const { service, ensureAdmin } = seeder('Admin-pass-1!');
    await service.onApplicationBootstrap();
    expect(ensureAdmin).toHaveBeenCalledTimes(1);
  });
});

import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { UsersService } from '../users/users.service.js';
import type { AuthModuleOptions } from './auth.options.js';
import { AUTH_OPTIONS } from './auth.options.js';
import { PasswordService } from './password.service.js';

/** Creates the first admin from configuration at start-up; safe to run on every start. */
@Injectable()
export class AdminSeeder implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminSeeder.name);

  constructor(
    @Inject(AUTH_OPTIONS) private readonly options: AuthModuleOptions,
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { email, password, name } = this.options.admin ?? {};
    if (!email || !password) return;
    const normalized = email.trim().toLowerCase();
    await this.users.ensureAdmin(normalized, name ?? 'Administrator', () =>
      this.passwords.hash(password),
    );
    this.logger.log(`Admin account ensured for ${normalized}`);
  }
}

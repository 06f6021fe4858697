import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';

import type { EnsureAdminOutcome } from './accounts/users.service.js';
import { UsersService } from './accounts/users.service.js';
import { SYSTEM_ACTOR } from './audit/audit-events.js';
import { AuditRecorder } from './audit/audit-recorder.service.js';
import type { AuthModuleOptions } from './auth.options.js';
import { AUTH_OPTIONS } from './auth.options.js';
import { PasswordService } from './password.service.js';
import { passwordProblems } from './password-policy.js';

/** Why the configured admin was not (or not fully) applied; never mentions the password. */
const WARNINGS: Partial<Record<EnsureAdminOutcome, string>> = {
  'password-mismatch':
    'an account with this email exists and its password is not ADMIN_PASSWORD: not promoted',
  disabled: 'the account is disabled and stays disabled (an admin may re-enable it)',
  deleted: 'the account is being deleted: left alone',
};

/**
 * Creates the first admin from configuration at start-up; safe to run on every start. An existing
 * account with that email becomes admin only if it proves to be the configured one (its password
 * is ADMIN_PASSWORD), and a disabled account is never re-enabled here. A password that the signup
 * policy would refuse stops the start (hosts that do not validate their settings the way
 * Guardhouse's env.ts does get the same check).
 */
@Injectable()
export class AdminSeeder implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminSeeder.name);

  constructor(
    @Inject(AUTH_OPTIONS) private readonly options: AuthModuleOptions,
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly audit: AuditRecorder,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { email, password, name } = this.options.admin ?? {};
    if (!email || !password) return;
    const problems = passwordProblems(
      this.options.passwordPolicy ?? 'length',
      password,
      'admin.password',
    );
    if (problems.length > 0) throw new Error(`Configured admin refused: ${problems.join('; ')}`);
    const normalized = email.trim().toLowerCase();
    const outcome = await this.users.ensureAdmin(normalized, name ?? 'Administrator', {
      // Start-up work: waits its turn in the hashing queue rather than being refused by it.
      hash: () => this.passwords.atStartup.hash(password),
      verify: (hash) => this.passwords.atStartup.verify(password, hash),
    });
    const warning = WARNINGS[outcome];
    if (warning) this.logger.warn(`Configured admin ${normalized}: ${warning}`);
    else this.logger.log(`Admin account ensured for ${normalized} (${outcome})`);
    // Every instance finds the admin present at each start: only a change or a refusal is an event.
    if (outcome === 'present') return;
    const subject = (await this.users.findByEmail(normalized))?.id ?? null;
    this.audit.record('admin.ensured', { outcome }, { actor: SYSTEM_ACTOR, subject });
  }
}

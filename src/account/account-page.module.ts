import { Module } from '@nestjs/common';

import { AccountPageRoutes } from './account-page.routes.js';

/**
 * The account page at /account (docs/account-page.md): a person signs in with a password (and
 * TOTP) or a passkey, manages passkeys, TOTP and sessions. Imported only when
 * ACCOUNT_PAGE_ENABLED (default: on outside production).
 */
@Module({ providers: [AccountPageRoutes] })
export class AccountPageModule {}

import { jest } from '@jest/globals';

import type { AuthModuleOptions } from '../auth.options.js';
import { MailGrant, MailService } from './mail.service.js';
import { mails } from './mail-templates.js';

const OPTIONS: AuthModuleOptions = {
  jwt: { issuer: 'i', audience: 'a' },
  mail: { from: 'Guardhouse <no-reply@example.com>', publicUrl: 'https://app.example.com' },
};

describe('MailGrant: leave to send one message on request to one address', () => {
  it('is spent by one message to its address, whatever the case of the address', () => {
    const grant = MailGrant.afterCounting('Ada@Example.com');
    expect(grant.spendOn('ada@example.com')).toBe(true);
    expect(grant.spendOn('ada@example.com')).toBe(false);
  });

  it('cannot be spent on another address', () => {
    const grant = MailGrant.afterCounting('ada@example.com');
    expect(grant.spendOn('bob@example.com')).toBe(false);
    expect(grant.spendOn('ada@example.com')).toBe(true);
  });
});

describe('MailService.sendRequested', () => {
  const reset = (to: string) =>
    mails.passwordReset(to, 'Guardhouse', 'https://app.example.com/reset-password?token=x', 30);

  it('queues a message on request once per grant, and nothing without a matching grant', async () => {
    const mail = new MailService(OPTIONS);
    const defer = jest.spyOn(mail, 'defer').mockImplementation(() => undefined);
    const grant = MailGrant.afterCounting('ada@example.com');
    mail.sendRequested(grant, reset('bob@example.com'));
    expect(defer).not.toHaveBeenCalled();
    mail.sendRequested(grant, reset('ada@example.com'));
    mail.sendRequested(grant, reset('ada@example.com'));
    expect(defer).toHaveBeenCalledTimes(1);
    await mail.onModuleDestroy();
  });
});

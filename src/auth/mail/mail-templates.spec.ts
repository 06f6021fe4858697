import { mails } from './mail-templates.js';

const URL_WITH_TOKEN = 'https://app.example.com/reset-password?token=abc&x=<b>';

describe('mail templates', () => {
  const all = [
    mails.passwordReset('a@example.com', 'Guardhouse', URL_WITH_TOKEN, 30),
    mails.verifyEmail('a@example.com', 'Guardhouse', URL_WITH_TOKEN),
    mails.signupExisting('a@example.com', 'Guardhouse', 'https://app.example.com/login'),
    mails.emailChangeConfirm('b@example.com', 'Guardhouse', URL_WITH_TOKEN),
    mails.emailChangeRequested('a@example.com', 'Guardhouse', 'b@example.com'),
    mails.emailInUse('b@example.com', 'Guardhouse'),
    mails.passwordChanged('a@example.com', 'Guardhouse'),
    mails.passwordWasReset('a@example.com', 'Guardhouse'),
    mails.emailChanged('a@example.com', 'Guardhouse', 'b@example.com'),
    mails.accountDisabled('a@example.com', 'Guardhouse'),
    mails.secondFactorFailures('a@example.com', 'Guardhouse', 3),
    mails.passkeyCounterRegressed('a@example.com', 'Guardhouse', '<b>Laptop</b>'),
  ];

  it.each(all.map((mail) => [mail.kind, mail]))(
    '%s has a text and an HTML part naming the product, and at most its own link',
    (_kind, mail) => {
      expect(mail.subject).toMatch(/^Guardhouse: /);
      expect(mail.text).toContain('Guardhouse');
      expect(mail.html).toContain('Guardhouse');
      const links = mail.text.match(/https?:\/\/\S+/g) ?? [];
      expect(links).toEqual(mail.link ? [mail.link] : []);
    },
  );

  it('escapes what it puts into HTML', () => {
    const mail = mails.passwordReset('a@example.com', 'Guardhouse', URL_WITH_TOKEN, 30);
    expect(mail.html).toContain('token=abc&amp;x=&lt;b&gt;');
    expect(mail.html).not.toContain('<b>');
  });
});

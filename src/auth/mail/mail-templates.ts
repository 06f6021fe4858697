/**
 * Messages sent to an address because someone asked for it, at an address they typed (a reset
 * link, a verification link, the notice to a taken address's owner...). Each is counted against
 * the address's budget (MAIL_MAX_PER_ADDRESS): MailService sends them only with a MailGrant, which
 * only RecoveryThrottleService hands out. Every other kind is a notice to the account's own
 * address about a change to it. test/security/mail-budgets.e2e-spec.ts has a row for each.
 */
export const ON_REQUEST_MAIL_KINDS = [
  'password-reset',
  'verify-email',
  'signup-existing',
  'email-change-confirm',
  'email-in-use',
] as const;
export type OnRequestMailKind = (typeof ON_REQUEST_MAIL_KINDS)[number];

/** One message, ready to send: a plain-text and an HTML part, at most one link (its own). */
export interface MailMessage<K extends MailKind = MailKind> {
  kind: K;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** The message's one link, logged in development when there is no SMTP server. */
  link?: string;
}

export type MailKind =
  | OnRequestMailKind
  | 'email-change-requested'
  | 'password-changed'
  | 'password-was-reset'
  | 'email-changed'
  | 'mfa-enabled'
  | 'mfa-disabled'
  | 'recovery-code-used'
  | 'second-factor-failures'
  | 'account-disabled'
  | 'passkey-counter-regressed';

/** A message sent on request: needs a MailGrant for its address (MailService.sendRequested). */
export type RequestedMail = MailMessage<OnRequestMailKind>;
/** A notice to an account's own address (MailService.send). */
export type NoticeMail = MailMessage<Exclude<MailKind, OnRequestMailKind>>;

const escapeHtml = (value: string): string =>
  value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

interface Content {
  subject: string;
  /** Paragraphs of plain text. */
  lines: string[];
  action?: { label: string; url: string };
  /** Said after the action. */
  after?: string[];
}

const NOT_YOU = 'If this was not you, reset your password and contact your administrator.';

function build<K extends MailKind>(
  kind: K,
  to: string,
  product: string,
  content: Content,
): MailMessage<K> {
  const paragraphs = [...content.lines];
  const after = content.after ?? [];
  const text = [
    ...paragraphs,
    ...(content.action ? [`${content.action.label}:\n${content.action.url}`] : []),
    ...after,
    `— ${product}`,
  ].join('\n\n');
  const p = (line: string) => `<p>${escapeHtml(line)}</p>`;
  const html = [
    '<!doctype html><html><body>',
    ...paragraphs.map(p),
    ...(content.action
      ? [
          `<p><a href="${escapeHtml(content.action.url)}">${escapeHtml(content.action.label)}</a></p>`,
        ]
      : []),
    ...after.map(p),
    p(`— ${product}`),
    '</body></html>',
  ].join('\n');
  return {
    kind,
    to,
    subject: `${product}: ${content.subject}`,
    text,
    html,
    link: content.action?.url,
  };
}

/** Every message the kit sends; none carries a password or a token other than its own link. */
export const mails = {
  passwordReset: (to: string, product: string, url: string, minutes: number) =>
    build('password-reset', to, product, {
      subject: 'reset your password',
      lines: [`Someone asked to reset the password of your ${product} account (${to}).`],
      action: { label: 'Choose a new password', url },
      after: [
        `The link works once, for ${minutes} minutes. If you did not ask for it, ignore this message: your password stays as it is.`,
      ],
    }),
  verifyEmail: (to: string, product: string, url: string) =>
    build('verify-email', to, product, {
      subject: 'confirm your email address',
      lines: [`Confirm that ${to} is the address of your ${product} account.`],
      action: { label: 'Confirm this address', url },
      after: ['If you did not create an account, ignore this message.'],
    }),
  signupExisting: (to: string, product: string, loginUrl: string) =>
    build('signup-existing', to, product, {
      subject: 'someone tried to sign up with your address',
      lines: [
        `Someone tried to create a ${product} account with ${to}, which already has one. No new account was created.`,
        'If it was you, log in instead, or reset your password if you forgot it.',
      ],
      action: { label: `Open ${product}`, url: loginUrl },
    }),
  emailChangeConfirm: (to: string, product: string, url: string) =>
    build('email-change-confirm', to, product, {
      subject: 'confirm your new email address',
      lines: [`Someone asked to use ${to} as the address of their ${product} account.`],
      action: { label: 'Confirm the new address', url },
      after: [
        'The address changes only when this link is used. If it was not you, ignore this message.',
      ],
    }),
  emailInUse: (to: string, product: string) =>
    build('email-in-use', to, product, {
      subject: 'this address is already in use',
      lines: [
        `Someone asked to use ${to} as the address of their ${product} account. It already belongs to an account, so nothing changed.`,
        'If it was you, use the account this address belongs to (or reset its password). Otherwise, ignore this message.',
      ],
    }),
  emailChangeRequested: (to: string, product: string, newEmail: string) =>
    build('email-change-requested', to, product, {
      subject: 'email change requested',
      lines: [
        `A change of your ${product} account's address to ${newEmail} was requested. It takes effect only when confirmed from the new address.`,
        NOT_YOU,
      ],
    }),
  passwordChanged: (to: string, product: string) =>
    build('password-changed', to, product, {
      subject: 'your password was changed',
      lines: [
        `The password of your ${product} account was changed and every session ended.`,
        NOT_YOU,
      ],
    }),
  passwordWasReset: (to: string, product: string) =>
    build('password-was-reset', to, product, {
      subject: 'your password was reset',
      lines: [
        `The password of your ${product} account was reset with a link sent to this address, and every session ended.`,
        NOT_YOU,
      ],
    }),
  emailChanged: (to: string, product: string, newEmail: string) =>
    build('email-changed', to, product, {
      subject: 'your email address was changed',
      lines: [
        `Your ${product} account now uses ${newEmail}; this address gets no further mail about it.`,
        NOT_YOU,
      ],
    }),
  mfaEnabled: (to: string, product: string) =>
    build('mfa-enabled', to, product, {
      subject: 'two-step login turned on',
      lines: [
        `Logging in to your ${product} account now takes a code from your authenticator app.`,
        NOT_YOU,
      ],
    }),
  mfaDisabled: (to: string, product: string, byAdmin: boolean) =>
    build('mfa-disabled', to, product, {
      subject: 'two-step login turned off',
      lines: [
        byAdmin
          ? `An administrator turned off two-step login for your ${product} account and ended its sessions.`
          : `Two-step login was turned off for your ${product} account.`,
        NOT_YOU,
      ],
    }),
  recoveryCodeUsed: (to: string, product: string, remaining: number) =>
    build('recovery-code-used', to, product, {
      subject: 'a recovery code was used',
      lines: [
        `A recovery code finished a login to your ${product} account. ${remaining} of your recovery codes remain.`,
        NOT_YOU,
      ],
    }),
  secondFactorFailures: (to: string, product: string, failures: number) =>
    build('second-factor-failures', to, product, {
      subject: 'wrong codes after your password',
      lines: [
        `${failures} wrong codes from an authenticator app were entered after the correct password of your ${product} account in the last 24 hours. Nobody got in with them.`,
        'If this was not you, someone may know your password: change it (or reset it) now.',
      ],
    }),
  passkeyCounterRegressed: (to: string, product: string, passkeyName: string) =>
    build('passkey-counter-regressed', to, product, {
      subject: 'a copy of your passkey may exist',
      lines: [
        `A login to your ${product} account with your passkey "${passkeyName}" was refused: its signature counter went backwards, which is what a copied (cloned) authenticator does.`,
        'If you did not just restore this authenticator, remove the passkey from your account and tell your administrator.',
      ],
    }),
  accountDisabled: (to: string, product: string) =>
    build('account-disabled', to, product, {
      subject: 'your account was disabled',
      lines: [
        `An administrator disabled your ${product} account; you can no longer log in.`,
        'Contact your administrator if you think this is a mistake.',
      ],
    }),
};

// Settings every e2e file starts from; a test can still override any of them per app.
process.env.NODE_ENV = 'test';
process.env.LOG_LEVEL ??= 'silent';
// Without SMTP_URL mail goes to the outbox: keep it out of the working tree.
process.env.MAIL_OUTBOX_DIR ??= `${process.env.TMPDIR ?? '/tmp'}/guardhouse-test-outbox`;

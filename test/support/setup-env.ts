import { installAuditCapture } from './audit-capture.js';
import { installQueryRecorder } from './query-recorder.js';

// Settings every e2e file starts from; a test can still override any of them per app.
process.env.NODE_ENV = 'test';
process.env.LOG_LEVEL ??= 'silent';

// Before the test file builds its app, so every model records the queries it sends.
installQueryRecorder();
// Every audit event the run stores, for the no-secrets walk (zz-audit-no-secrets.e2e-spec.ts).
installAuditCapture();
// Without SMTP_URL mail goes to the outbox: keep it out of the working tree.
process.env.MAIL_OUTBOX_DIR ??= `${process.env.TMPDIR ?? '/tmp'}/guardhouse-test-outbox`;

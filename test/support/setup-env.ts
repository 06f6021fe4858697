import { installQueryRecorder } from './query-recorder.js';

// Settings every e2e file starts from; a test can still override any of them per app.
process.env.NODE_ENV = 'test';
process.env.LOG_LEVEL ??= 'silent';

// Before the test file builds its app, so every model records the queries it sends.
installQueryRecorder();

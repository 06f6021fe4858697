import type { LoggerOptions } from 'pino';
import { pino } from 'pino';

import { censorSecrets, REDACTED, SECRET_FIELDS } from './redact.js';

/**
 * The JSON logger's settings: `level` as a label, and secrets hidden twice. pino's `redact`
 * covers fixed paths (headers as pino's serializers would log them, top-level secret fields);
 * its wildcards reach one level only and cost about 5 µs per log line for each extra level
 * (measured), so `censorSecrets` hides the same field names at any depth of each logged object.
 * The request log line alone skips `censorSecrets` (its fields are fixed and none is secret, see
 * request-log.ts); pino's `redact` paths still apply to it.
 */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => censorSecrets(object),
    },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        ...SECRET_FIELDS.map((field) => `["${field}"]`),
      ],
      censor: REDACTED,
    },
    // For code that logs `{ req }`, `{ res }` or `{ err }` itself.
    serializers: {
      req: pino.stdSerializers.req,
      res: pino.stdSerializers.res,
      err: pino.stdSerializers.err,
    },
  };
}

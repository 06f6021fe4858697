import { basename } from 'node:path';

import TestSequencer from '@jest/test-sequencer';

/**
 * Jest's own order (failed and slow files first), with the checks over the whole run (`zz-*`: index
 * coverage, the audit no-secrets walk) moved last.
 */
export default class RunChecksLast extends TestSequencer {
  async sort(tests) {
    const sorted = await super.sort(tests);
    const last = (test) => basename(test.path).startsWith('zz-');
    return [...sorted.filter((t) => !last(t)), ...sorted.filter(last)];
  }
}

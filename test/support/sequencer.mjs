import TestSequencer from '@jest/test-sequencer';

/** Jest's own order (failed and slow files first), with the index-coverage check moved last. */
export default class IndexCheckLast extends TestSequencer {
  async sort(tests) {
    const sorted = await super.sort(tests);
    const last = (test) => test.path.endsWith('zz-index-coverage.e2e-spec.ts');
    return [...sorted.filter((t) => !last(t)), ...sorted.filter(last)];
  }
}

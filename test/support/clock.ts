import { jest } from '@jest/globals';

/**
 * Fakes only the clock (`Date.now()`, `new Date()`), starting at `now`; timers, ticks and
 * microtasks stay real, so awaited promises and stubbed I/O run as usual. Move it on with
 * `jest.advanceTimersByTime(ms)`; undo with `jest.useRealTimers()`.
 */
export function fakeClockOnly(now = new Date('2030-01-01T00:00:00Z')): void {
  jest.useFakeTimers({
    now,
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'requestAnimationFrame',
      'cancelAnimationFrame',
      'requestIdleCallback',
      'cancelIdleCallback',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
}

import { jest } from '@jest/globals';
import { ConflictException } from '@nestjs/common';

import { DUPLICATE_KEY, saveOr409 } from './duplicate-key.js';

const failing = (code: number) => () =>
  Promise.reject(Object.assign(new Error('write failed'), { code }));

describe('saveOr409', () => {
  it('returns what the write returns', async () => {
    await expect(saveOr409(() => Promise.resolve('saved'), 'taken')).resolves.toBe('saved');
  });

  it('answers 409 with the message for a duplicate key (11000)', async () => {
    await expect(saveOr409(failing(DUPLICATE_KEY), 'Name taken')).rejects.toThrow(
      new ConflictException('Name taken'),
    );
  });

  it('answers 409 for FerretDB’s code 1 on update when the value is now held by another', async () => {
    const taken = jest.fn(() => Promise.resolve(true));
    await expect(saveOr409(failing(1), 'Name taken', taken)).rejects.toBeInstanceOf(
      ConflictException,
    );
    expect(taken).toHaveBeenCalledTimes(1);
  });

  it('rethrows any other failure unchanged', async () => {
    await expect(saveOr409(failing(1), 'Name taken')).rejects.toThrow('write failed');
    await expect(saveOr409(failing(1), 'Name taken', () => Promise.resolve(false))).rejects.toThrow(
      'write failed',
    );
  });
});

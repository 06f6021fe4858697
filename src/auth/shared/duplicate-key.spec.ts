import { jest } from '@jest/globals';
import { ConflictException } from '@nestjs/common';
import type { Document } from 'mongoose';

import { DUPLICATE_KEY, saveOr409, saveUniqueOr409 } from './duplicate-key.js';

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

describe('saveUniqueOr409 (a value unique per owner, on save)', () => {
  const ID = 'the-id';
  /** A loaded book-like document whose save fails with `code` (or succeeds), and its model. */
  function book(changed: string[], code?: number, holder: object | null = { _id: 'other' }) {
    const values: Record<string, unknown> = { owner: 'alice', title: 'Dune' };
    const exists = jest.fn((_filter: object) => Promise.resolve(holder));
    const doc = {
      _id: ID,
      isModified: (path: string) => changed.includes(path),
      get: (path: string) => values[path],
      save: jest.fn(() =>
        code === undefined
          ? Promise.resolve(doc)
          : Promise.reject(Object.assign(new Error('write failed'), { code })),
      ),
      $model: () => ({ exists }),
    };
    return { doc: doc as unknown as Document, exists };
  }

  it('saves and returns the document', async () => {
    const { doc } = book(['title']);
    await expect(saveUniqueOr409(doc, ['owner', 'title'], 'Title taken')).resolves.toBe(doc);
  });

  it('answers 409 on a duplicate key without looking anything up', async () => {
    const { doc, exists } = book(['title'], DUPLICATE_KEY);
    await expect(saveUniqueOr409(doc, ['owner', 'title'], 'Title taken')).rejects.toThrow(
      new ConflictException('Title taken'),
    );
    expect(exists).not.toHaveBeenCalled();
  });

  it("looks for another document of this owner with the title after FerretDB's code 1", async () => {
    const { doc, exists } = book(['title'], 1);
    await expect(saveUniqueOr409(doc, ['owner', 'title'], 'Title taken')).rejects.toBeInstanceOf(
      ConflictException,
    );
    expect(exists).toHaveBeenCalledTimes(1);
    const filter = exists.mock.calls[0][0] as Record<string, unknown>;
    expect(filter).toMatchObject({ owner: 'alice', title: 'Dune' });
    expect(JSON.stringify(filter._id)).toBe(JSON.stringify({ $ne: ID }));
  });

  it('rethrows when nobody else holds the value, or when the key did not change', async () => {
    const free = book(['title'], 1, null);
    await expect(saveUniqueOr409(free.doc, ['owner', 'title'], 'taken')).rejects.toThrow(
      'write failed',
    );
    const unchangedKey = book(['description'], 1);
    await expect(saveUniqueOr409(unchangedKey.doc, ['owner', 'title'], 'taken')).rejects.toThrow(
      'write failed',
    );
    expect(unchangedKey.exists).not.toHaveBeenCalled();
  });
});

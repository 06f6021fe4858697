import { jest } from '@jest/globals';
import { NotFoundException } from '@nestjs/common';
import type { Model } from 'mongoose';
import { Types } from 'mongoose';

import type { Book } from '../schemas/book.schema.js';
import type { BookCover } from '../schemas/book-cover.schema.js';
import { BookCoversService } from './book-covers.service.js';
import type { CoverLimitsService } from './cover-limits.service.js';
import type { CoverThumbnail } from './cover-thumbnail.js';

const thumbnail: CoverThumbnail = {
  contentType: 'image/webp',
  data: Buffer.from('cover'),
  size: 5,
  width: 1,
  height: 1,
  sha256: 'ab'.repeat(32),
  sourceFormat: 'png',
};

/** Stub models: the book is there or not; the cover calls are recorded. */
function service(bookExists: boolean) {
  const covers = {
    replaceOne: jest.fn(() => Promise.resolve({ acknowledged: true })),
    deleteOne: jest.fn(() => Promise.resolve({ deletedCount: 1 })),
    findById: jest.fn(() => Promise.resolve({ _id: new Types.ObjectId(), ...thumbnail })),
  };
  const books = { exists: jest.fn(() => Promise.resolve(bookExists ? { _id: 'x' } : null)) };
  const instance = new BookCoversService(
    covers as unknown as Model<BookCover>,
    books as unknown as Model<Book>,
    {} as CoverLimitsService,
  );
  return { instance, covers };
}

// An upload can finish after its book was deleted (the book, or its owner, deleted meanwhile).
describe('BookCoversService and books that are gone', () => {
  it('removes a cover it just stored when the book no longer exists', async () => {
    const { instance, covers } = service(false);
    const bookId = new Types.ObjectId();
    await instance.store(bookId, thumbnail);
    expect(covers.deleteOne).toHaveBeenCalledWith({ _id: bookId });
  });

  it('keeps the cover of a book that exists', async () => {
    const { instance, covers } = service(true);
    await instance.store(new Types.ObjectId(), thumbnail);
    expect(covers.replaceOne).toHaveBeenCalledTimes(1);
    expect(covers.deleteOne).not.toHaveBeenCalled();
  });

  it('does not serve a stored cover whose book is gone (404)', async () => {
    const { instance } = service(false);
    await expect(instance.get(new Types.ObjectId().toString())).rejects.toBeInstanceOf(
      NotFoundException,
    );
  });
});

import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { UploadedMultipartFile } from '@nestjs/platform-fastify/multipart';
import type { Types } from 'mongoose';
import { Model } from 'mongoose';

import { isDuplicateKeyError } from '../../auth/index.js';
import { Book } from '../schemas/book.schema.js';
import type { BookCoverDocument } from '../schemas/book-cover.schema.js';
import { BookCover } from '../schemas/book-cover.schema.js';
import { CoverLimitsService } from './cover-limits.service.js';
import type { CoverThumbnail } from './cover-thumbnail.js';
import { InvalidImageError, makeCoverThumbnail } from './cover-thumbnail.js';

export const COVER_FIELD = 'cover_image';

/**
 * Cover thumbnails: made from uploads, stored one per book in `book_covers` (see BookCover for
 * why not GridFS), read back for `GET /books/:id/cover`. Deleting them is the Book schema's job.
 */
@Injectable()
export class BookCoversService {
  constructor(
    @InjectModel(BookCover.name) private readonly covers: Model<BookCover>,
    @InjectModel(Book.name) private readonly books: Model<Book>,
    private readonly limits: CoverLimitsService,
  ) {}

  /**
   * The thumbnail of an uploaded cover; 400 when it is missing (and required) or not an image,
   * 503 when too many covers are being processed already (see CoverLimitsService).
   */
  async fromUpload(upload: UploadedMultipartFile | undefined): Promise<CoverThumbnail | undefined> {
    if (!upload) return undefined;
    if (!upload.buffer) throw new Error('Upload interceptor must use memory storage');
    try {
      const { buffer } = upload;
      return await this.limits.run(() => makeCoverThumbnail(buffer));
    } catch (error) {
      if (error instanceof InvalidImageError) throw new BadRequestException(error.message);
      throw error;
    }
  }

  async requiredFromUpload(upload: UploadedMultipartFile | undefined): Promise<CoverThumbnail> {
    const cover = await this.fromUpload(upload);
    if (!cover) {
      throw new BadRequestException(`${COVER_FIELD} is required (a multipart/form-data file)`);
    }
    return cover;
  }

  /**
   * Stores or replaces a book's cover in one write; the old bytes are overwritten, not left. An
   * upload can race the book's deletion (its owner deleted, the book deleted): if the book is gone
   * once the cover is written, the cover goes too, so none is left that nothing points to.
   */
  async store(bookId: Types.ObjectId, cover: CoverThumbnail): Promise<void> {
    const { contentType, data, size, width, height, sha256 } = cover;
    const replacement = { _id: bookId, contentType, data, size, width, height, sha256 };
    try {
      await this.covers.replaceOne({ _id: bookId }, replacement, { upsert: true });
    } catch (error) {
      // Two first-time upserts for one book: the loser finds the winner's document and replaces it.
      if (!isDuplicateKeyError(error)) throw error;
      await this.covers.replaceOne({ _id: bookId }, replacement, { upsert: true });
    }
    if (!(await this.books.exists({ _id: bookId }))) await this.covers.deleteOne({ _id: bookId });
  }

  /** A cover is served only while its book exists (a cover left by a racing upload is not). */
  async get(bookId: string): Promise<BookCoverDocument> {
    const [book, cover] = await Promise.all([
      this.books.exists({ _id: bookId }),
      this.covers.findById(bookId),
    ]);
    if (!book || !cover) throw new NotFoundException('Cover not found');
    return cover;
  }
}

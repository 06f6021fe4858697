import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { UploadedMultipartFile } from '@nestjs/platform-fastify/multipart';
import type { QueryFilter } from 'mongoose';
import { Model } from 'mongoose';

import type { AuthUser, PageDto } from '../auth/index.js';
import { listOwner, paginate, saveOr409, saveUniqueOr409 } from '../auth/index.js';
import { BookCoversService } from './covers/book-covers.service.js';
import type { BookResponseDto } from './dto/book-response.dto.js';
import { toBookResponse } from './dto/book-response.dto.js';
import type { CreateBookDto } from './dto/create-book.dto.js';
import type { ListBooksQueryDto } from './dto/list-books-query.dto.js';
import type { UpdateBookDto } from './dto/update-book.dto.js';
import type { BookDocument } from './schemas/book.schema.js';
import { Book } from './schemas/book.schema.js';

const TITLE_TAKEN = 'You already have a book with this title';

@Injectable()
export class BooksService {
  constructor(
    @InjectModel(Book.name) private readonly books: Model<Book>,
    private readonly covers: BookCoversService,
  ) {}

  /** Your own books; an admin may name another owner, anyone else gets 403 for it. */
  async list(query: ListBooksQueryDto, user: AuthUser): Promise<PageDto<BookResponseDto>> {
    const owner = listOwner(user, query.owner, {
      adminDefault: 'own',
      refusal: "Only an admin may list another user's books",
    });
    const filter: QueryFilter<Book> = { owner };
    if (query.category !== undefined) filter.category = query.category;
    return paginate(this.books, filter, query, { createdAt: -1, _id: -1 }, toBookResponse);
  }

  async get(id: string): Promise<BookResponseDto> {
    const doc = await this.books.findById(id);
    if (!doc) throw new NotFoundException('Book not found');
    return toBookResponse(doc);
  }

  /**
   * The image is checked and shrunk before anything is written. The book goes in first, as the
   * unique index decides a duplicate title (409) there; if storing the cover then fails, the book
   * is removed again so no coverless book is left.
   */
  async create(
    dto: CreateBookDto,
    upload: UploadedMultipartFile | undefined,
    ownerId: string,
  ): Promise<BookResponseDto> {
    const cover = await this.covers.requiredFromUpload(upload);
    const doc = await saveOr409(() => this.books.create({ ...dto, owner: ownerId }), TITLE_TAKEN);
    try {
      await this.covers.store(doc._id, cover);
    } catch (error) {
      await doc.deleteOne();
      throw error;
    }
    return toBookResponse(doc);
  }

  /**
   * PATCH applies the given fields, PUT (a full CreateBookDto) replaces all of them; either may
   * bring a new cover, which replaces the old one. Nothing is written for a bad image (400) or a
   * taken title (409).
   */
  async update(
    doc: BookDocument,
    dto: UpdateBookDto,
    upload: UploadedMultipartFile | undefined,
  ): Promise<BookResponseDto> {
    const cover = await this.covers.fromUpload(upload);
    doc.set(dto);
    // A new cover is a change to the book too: its updatedAt moves.
    if (cover) doc.set('updatedAt', new Date());
    await saveUniqueOr409(doc, ['owner', 'title'], TITLE_TAKEN);
    if (cover) await this.covers.store(doc._id, cover);
    return toBookResponse(doc);
  }

  /** The Book schema's delete middleware removes the cover first. */
  async remove(doc: BookDocument): Promise<void> {
    await doc.deleteOne();
  }
}

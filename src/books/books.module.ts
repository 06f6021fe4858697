import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';

import { BooksController } from './books.controller.js';
import { BooksService } from './books.service.js';
import { BookCoversService } from './covers/book-covers.service.js';
import { CoverLimitsInterceptor } from './covers/cover-limits.interceptor.js';
import { CoverLimitsService } from './covers/cover-limits.service.js';
import { Book, BookSchema } from './schemas/book.schema.js';
import { BookCover, BookCoverSchema } from './schemas/book-cover.schema.js';

@Module({
  imports: [
    MongooseModule.forFeature([
      { name: Book.name, schema: BookSchema },
      { name: BookCover.name, schema: BookCoverSchema },
    ]),
  ],
  controllers: [BooksController],
  providers: [BooksService, BookCoversService, CoverLimitsService, CoverLimitsInterceptor],
})
export class BooksModule {}

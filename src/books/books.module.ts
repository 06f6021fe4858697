import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { BooksController } from './books.controller.js';
import { BooksService } from './books.service.js';
import { BookCoversService } from './covers/book-covers.service.js';
import { BookCover, BookCoverSchema } from './schemas/book-cover.schema.js';
import { Book, BookSchema } from './schemas/book.schema.js';

@Module({
  imports: [
    MongooseModule.forFeature([
      { name: Book.name, schema: BookSchema },
      { name: BookCover.name, schema: BookCoverSchema },
    ]),
  ],
  controllers: [BooksController],
  providers: [BooksService, BookCoversService],
})
export class BooksModule {}

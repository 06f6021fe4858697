import {
  applyDecorators,
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Res,
  UploadedFile,
  UseInterceptors,
} from '@nestjs/common';
import type { UploadedMultipartFile } from '@nestjs/platform-fastify/multipart';
import { FileInterceptor } from '@nestjs/platform-fastify/multipart';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiNotModifiedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiProduces,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';

import type { AuthUser, PageDto } from '../auth/index.js';
import {
  ApiPageResponse,
  Auth,
  CurrentUser,
  Owned,
  OwnedResource,
  ParseObjectIdPipe,
  Scopes,
} from '../auth/index.js';
import { UPLOAD_LIMITS } from '../common/multipart/upload-limits.js';
import { BooksService } from './books.service.js';
import { BookCoversService, COVER_FIELD } from './covers/book-covers.service.js';
import { CoverLimitsInterceptor } from './covers/cover-limits.interceptor.js';
import { COVER_CONTENT_TYPE, MAX_INPUT_PIXELS } from './covers/cover-thumbnail.js';
import { CreateBookFormDto, ReplaceBookFormDto, UpdateBookFormDto } from './dto/book-form.dto.js';
import { BookResponseDto } from './dto/book-response.dto.js';
import { CreateBookDto } from './dto/create-book.dto.js';
import { ListBooksQueryDto } from './dto/list-books-query.dto.js';
import { UpdateBookDto } from './dto/update-book.dto.js';
import type { BookDocument } from './schemas/book.schema.js';
import { BOOK_OWNERSHIP } from './schemas/book.schema.js';

/**
 * Books are readable by any signed-in user, so browsers may keep a cover but must revalidate it:
 * the URL stays the same when the cover is replaced, and the ETag makes the check a cheap 304.
 */
const COVER_CACHE_CONTROL = 'private, no-cache';

/** If-None-Match uses the weak comparison (RFC 9110 §13.1.2): `W/` prefixes do not matter. */
function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const strip = (tag: string): string => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || strip(tag) === strip(etag));
}

const RETRY_AFTER = {
  'Retry-After': {
    description: 'Seconds to wait before trying again',
    schema: { type: 'integer' },
  },
};

/**
 * Parses a multipart body (text fields into the route's DTO, validated like JSON; the one file, in
 * memory, for the cover pipeline) and documents what that can answer. JSON bodies pass through.
 */
const CoverUpload = (cover: 'required' | 'optional') =>
  applyDecorators(
    // Limits first: a throttled upload is refused before its body is read.
    UseInterceptors(
      CoverLimitsInterceptor,
      FileInterceptor(COVER_FIELD, { limits: UPLOAD_LIMITS }),
    ),
    ApiBadRequestResponse({
      description:
        'Invalid or unknown fields (owner included), a malformed multipart body, or a ' +
        `cover_image that is ${cover === 'required' ? 'missing, ' : ''}not a JPEG/PNG/WebP/GIF ` +
        `by content, damaged, over ${MAX_INPUT_PIXELS / 1_000_000} megapixels, or too large ` +
        'to decode (e.g. a 16-bit image over 64 MB of pixels)',
    }),
    ApiPayloadTooLargeResponse({ description: 'cover_image is over 5 MB' }),
    ApiTooManyRequestsResponse({
      description: 'Too many cover uploads (multipart requests) by this user this minute',
      headers: RETRY_AFTER,
    }),
    ApiServiceUnavailableResponse({
      description: 'Too many covers are being processed right now',
      headers: RETRY_AFTER,
    }),
  );

@ApiTags('books')
@Controller('books')
export class BooksController {
  constructor(
    private readonly books: BooksService,
    private readonly covers: BookCoversService,
  ) {}

  @Get()
  @Auth()
  @Scopes('books:read')
  @ApiOperation({
    summary: 'List your books (filter by category; an admin may pass owner=<user id>)',
    description: "A non-admin asking for another user's books gets 403.",
  })
  @ApiPageResponse(BookResponseDto)
  list(
    @Query() query: ListBooksQueryDto,
    @CurrentUser() user: AuthUser,
  ): Promise<PageDto<BookResponseDto>> {
    return this.books.list(query, user);
  }

  @Get(':id')
  @Auth()
  @Scopes('books:read')
  @ApiOperation({ summary: 'Read one book (any signed-in user)' })
  @ApiOkResponse({ type: BookResponseDto })
  @ApiNotFoundResponse({ description: 'No such book' })
  get(@Param('id', ParseObjectIdPipe) id: string): Promise<BookResponseDto> {
    return this.books.get(id);
  }

  @Get(':id/cover')
  @Auth()
  @Scopes('books:read')
  @ApiOperation({
    summary: "A book's cover thumbnail (WebP, fits 150×150; any signed-in user)",
    description: 'Sends an ETag; a request with a matching If-None-Match gets 304 and no body.',
  })
  @ApiProduces(COVER_CONTENT_TYPE)
  @ApiOkResponse({
    description: 'The image',
    content: { [COVER_CONTENT_TYPE]: { schema: { type: 'string', format: 'binary' } } },
    headers: {
      ETag: { description: 'Quoted SHA-256 of the image bytes', schema: { type: 'string' } },
      'Cache-Control': { schema: { type: 'string', example: COVER_CACHE_CONTROL } },
    },
  })
  @ApiNotModifiedResponse({ description: 'If-None-Match matched: the cached copy is current' })
  @ApiNotFoundResponse({ description: 'No such book (or cover)' })
  async cover(
    @Param('id', ParseObjectIdPipe) id: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const cover = await this.covers.get(id);
    const etag = `"${cover.sha256}"`;
    reply.header('ETag', etag).header('Cache-Control', COVER_CACHE_CONTROL);
    if (ifNoneMatchHits(ifNoneMatch, etag)) {
      await reply.status(304).send();
      return;
    }
    await reply.status(200).type(cover.contentType).send(Buffer.from(cover.data));
  }

  @Post()
  @Auth()
  @Scopes('books:write')
  @CoverUpload('required')
  @ApiOperation({
    summary: 'Add a book with its cover (multipart/form-data; you become its owner)',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: CreateBookFormDto })
  @ApiCreatedResponse({ type: BookResponseDto })
  @ApiConflictResponse({ description: 'You already have a book with this title' })
  create(
    @Body() dto: CreateBookDto,
    @UploadedFile() upload: UploadedMultipartFile | undefined,
    @CurrentUser() user: AuthUser,
  ): Promise<BookResponseDto> {
    return this.books.create(dto, upload, user.id);
  }

  @Put(':id')
  @Auth()
  @Scopes('books:write')
  @Owned(BOOK_OWNERSHIP)
  @CoverUpload('optional')
  @ApiOperation({
    summary: 'Replace title, description and category, optionally the cover (owner or admin)',
    description: 'JSON or multipart/form-data; a cover can only come with multipart.',
  })
  @ApiConsumes('multipart/form-data', 'application/json')
  @ApiBody({ type: ReplaceBookFormDto })
  @ApiOkResponse({ type: BookResponseDto })
  @ApiConflictResponse({ description: 'You already have a book with this title' })
  replace(
    @OwnedResource() book: BookDocument,
    @Body() dto: CreateBookDto,
    @UploadedFile() upload: UploadedMultipartFile | undefined,
  ): Promise<BookResponseDto> {
    return this.books.update(book, { ...dto, description: dto.description ?? '' }, upload);
  }

  @Patch(':id')
  @Auth()
  @Scopes('books:write')
  @Owned(BOOK_OWNERSHIP)
  @CoverUpload('optional')
  @ApiOperation({
    summary: 'Change some fields of a book and/or its cover (owner or admin)',
    description: 'JSON or multipart/form-data; a new cover_image (multipart) replaces the old one.',
  })
  @ApiConsumes('multipart/form-data', 'application/json')
  @ApiBody({ type: UpdateBookFormDto })
  @ApiOkResponse({ type: BookResponseDto })
  @ApiConflictResponse({ description: 'You already have a book with this title' })
  update(
    @OwnedResource() book: BookDocument,
    @Body() dto: UpdateBookDto,
    @UploadedFile() upload: UploadedMultipartFile | undefined,
  ): Promise<BookResponseDto> {
    return this.books.update(book, dto, upload);
  }

  @Delete(':id')
  @HttpCode(204)
  @Auth()
  @Scopes('books:write')
  @Owned(BOOK_OWNERSHIP)
  @ApiOperation({ summary: 'Delete a book and its cover (owner or admin)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  remove(@OwnedResource() book: BookDocument): Promise<void> {
    return this.books.remove(book);
  }
}

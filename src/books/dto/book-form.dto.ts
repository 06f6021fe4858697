import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import { CreateBookDto } from './create-book.dto.js';
import { UpdateBookDto } from './update-book.dto.js';

// Documentation only: the multipart bodies as Swagger UI shows them, file input included. The
// text fields are validated through CreateBookDto / UpdateBookDto, the file by the cover pipeline.

export class CreateBookFormDto extends CreateBookDto {
  @ApiProperty({
    type: 'string',
    format: 'binary',
    description: 'JPEG, PNG, WebP or GIF (checked by content), at most 5 MB and 16 megapixels',
  })
  cover_image!: unknown;
}

export class UpdateBookFormDto extends UpdateBookDto {
  @ApiPropertyOptional({
    type: 'string',
    format: 'binary',
    description: 'Optional new cover: replaces the old one. Same rules as on create.',
  })
  cover_image?: unknown;
}

export class ReplaceBookFormDto extends CreateBookDto {
  @ApiPropertyOptional({
    type: 'string',
    format: 'binary',
    description: 'Optional new cover: replaces the old one; without it the cover is kept.',
  })
  cover_image?: unknown;
}

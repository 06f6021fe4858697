import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';

import type { AuthUser, PageDto } from '../auth/index.js';
import {
  ApiPageResponse,
  Auth,
  CurrentUser,
  OptionalAuth,
  Owned,
  OwnedResource,
  ParseObjectIdPipe,
  Public,
  Scopes,
} from '../auth/index.js';
import { CreateMovieDto } from './dto/create-movie.dto.js';
import { ListMoviesQueryDto } from './dto/list-movies-query.dto.js';
import { MovieResponseDto } from './dto/movie-response.dto.js';
import { UpdateMovieDto } from './dto/update-movie.dto.js';
import { MoviesService } from './movies.service.js';
import type { MovieDocument } from './schemas/movie.schema.js';
import { MOVIE_OWNERSHIP } from './schemas/movie.schema.js';

@ApiTags('movies')
@Controller('movies')
export class MoviesController {
  constructor(private readonly movies: MoviesService) {}

  @Get()
  @OptionalAuth()
  @Scopes('movies:read')
  @ApiOperation({ summary: 'List movies (public; filter by genre or addedBy=<id|me>)' })
  @ApiPageResponse(MovieResponseDto)
  list(
    @Query() query: ListMoviesQueryDto,
    @CurrentUser() user?: AuthUser,
  ): Promise<PageDto<MovieResponseDto>> {
    return this.movies.list(query, user);
  }

  @Get(':id')
  @Public()
  @ApiOperation({ summary: 'Read one movie (public)' })
  @ApiOkResponse({ type: MovieResponseDto })
  @ApiNotFoundResponse({ description: 'No such movie' })
  get(@Param('id', ParseObjectIdPipe) id: string): Promise<MovieResponseDto> {
    return this.movies.get(id);
  }

  @Post()
  @Auth()
  @Scopes('movies:write')
  @ApiOperation({ summary: 'Add a movie (you become its owner)' })
  @ApiCreatedResponse({ type: MovieResponseDto })
  @ApiBadRequestResponse({ description: 'Invalid body (including any addedBy field)' })
  @ApiConflictResponse({ description: 'A movie with this name already exists' })
  create(@Body() dto: CreateMovieDto, @CurrentUser() user: AuthUser): Promise<MovieResponseDto> {
    return this.movies.create(dto, user.id);
  }

  @Put(':id')
  @Auth()
  @Scopes('movies:write')
  @Owned(MOVIE_OWNERSHIP)
  @ApiOperation({ summary: 'Replace a movie (owner or admin)' })
  @ApiOkResponse({ type: MovieResponseDto })
  @ApiConflictResponse({ description: 'A movie with this name already exists' })
  replace(
    @OwnedResource() movie: MovieDocument,
    @Body() dto: CreateMovieDto,
  ): Promise<MovieResponseDto> {
    return this.movies.update(movie, dto);
  }

  @Patch(':id')
  @Auth()
  @Scopes('movies:write')
  @Owned(MOVIE_OWNERSHIP)
  @ApiOperation({ summary: 'Change some fields of a movie (owner or admin)' })
  @ApiOkResponse({ type: MovieResponseDto })
  @ApiConflictResponse({ description: 'A movie with this name already exists' })
  update(
    @OwnedResource() movie: MovieDocument,
    @Body() dto: UpdateMovieDto,
  ): Promise<MovieResponseDto> {
    return this.movies.update(movie, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @Auth()
  @Scopes('movies:write')
  @Owned(MOVIE_OWNERSHIP)
  @ApiOperation({ summary: 'Delete a movie (owner or admin)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  remove(@OwnedResource() movie: MovieDocument): Promise<void> {
    return this.movies.remove(movie);
  }
}

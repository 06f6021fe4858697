import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { QueryFilter } from 'mongoose';
import { Model } from 'mongoose';

import type { AuthUser, PageDto } from '../auth/index.js';
import { paginate, resolveUserIdOrMe, saveOr409, saveUniqueOr409 } from '../auth/index.js';
import type { CreateMovieDto } from './dto/create-movie.dto.js';
import type { ListMoviesQueryDto } from './dto/list-movies-query.dto.js';
import type { MovieResponseDto } from './dto/movie-response.dto.js';
import { toMovieResponse } from './dto/movie-response.dto.js';
import type { UpdateMovieDto } from './dto/update-movie.dto.js';
import type { MovieDocument, MovieRecord } from './schemas/movie.schema.js';
import { Movie } from './schemas/movie.schema.js';

const NAME_TAKEN = 'A movie with this name already exists';

@Injectable()
export class MoviesService {
  constructor(@InjectModel(Movie.name) private readonly movies: Model<Movie>) {}

  async list(query: ListMoviesQueryDto, user?: AuthUser): Promise<PageDto<MovieResponseDto>> {
    const filter: QueryFilter<Movie> = {};
    if (query.genre !== undefined) filter.genres = query.genre;
    if (query.addedBy !== undefined) {
      filter.addedBy = resolveUserIdOrMe(query.addedBy, user, 'addedBy');
    }
    return paginate(this.movies, filter, query, { createdAt: -1, _id: -1 }, toMovieResponse);
  }

  async get(id: string): Promise<MovieResponseDto> {
    // A plain object: a read needs none of a hydrated document's change tracking (~8 µs each).
    const doc = await this.movies.findById(id).lean<MovieRecord>();
    if (!doc) throw new NotFoundException('Movie not found');
    return toMovieResponse(doc);
  }

  async create(dto: CreateMovieDto, ownerId: string): Promise<MovieResponseDto> {
    const doc = await saveOr409(() => this.movies.create({ ...dto, addedBy: ownerId }), NAME_TAKEN);
    return toMovieResponse(doc);
  }

  /** PATCH applies the given fields, PUT (a full CreateMovieDto) replaces all of them. */
  async update(doc: MovieDocument, dto: UpdateMovieDto): Promise<MovieResponseDto> {
    doc.set(dto);
    return toMovieResponse(await saveUniqueOr409(doc, ['name'], NAME_TAKEN));
  }

  async remove(doc: MovieDocument): Promise<void> {
    await doc.deleteOne();
  }
}

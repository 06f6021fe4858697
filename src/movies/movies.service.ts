import {
  ConflictException,
  Injectable,
  NotFoundException,
  UnauthorizedException,
} from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { QueryFilter } from 'mongoose';
import { Model, trusted } from 'mongoose';

import type { AuthUser, PageDto } from '../auth/index.js';
import { isDuplicateKeyError, paginate } from '../auth/index.js';
import type { CreateMovieDto } from './dto/create-movie.dto.js';
import type { ListMoviesQueryDto } from './dto/list-movies-query.dto.js';
import type { MovieResponseDto } from './dto/movie-response.dto.js';
import { toMovieResponse } from './dto/movie-response.dto.js';
import type { UpdateMovieDto } from './dto/update-movie.dto.js';
import type { MovieDocument } from './schemas/movie.schema.js';
import { Movie } from './schemas/movie.schema.js';

const NAME_TAKEN = 'A movie with this name already exists';

@Injectable()
export class MoviesService {
  constructor(@InjectModel(Movie.name) private readonly movies: Model<Movie>) {}

  async list(query: ListMoviesQueryDto, user?: AuthUser): Promise<PageDto<MovieResponseDto>> {
    const filter: QueryFilter<Movie> = {};
    if (query.genre !== undefined) filter.genres = query.genre;
    if (query.addedBy !== undefined) {
      if (query.addedBy.toLowerCase() === 'me') {
        if (!user) throw new UnauthorizedException('addedBy=me needs an access token');
        filter.addedBy = user.id;
      } else {
        filter.addedBy = query.addedBy;
      }
    }
    return paginate(this.movies, filter, query, { createdAt: -1, _id: -1 }, toMovieResponse);
  }

  async get(id: string): Promise<MovieResponseDto> {
    const doc = await this.movies.findById(id);
    if (!doc) throw new NotFoundException('Movie not found');
    return toMovieResponse(doc);
  }

  async create(dto: CreateMovieDto, ownerId: string): Promise<MovieResponseDto> {
    try {
      return toMovieResponse(await this.movies.create({ ...dto, addedBy: ownerId }));
    } catch (error) {
      if (isDuplicateKeyError(error)) throw new ConflictException(NAME_TAKEN);
      throw error;
    }
  }

  /** PATCH applies the given fields, PUT (a full CreateMovieDto) replaces all of them. */
  async update(doc: MovieDocument, dto: UpdateMovieDto): Promise<MovieResponseDto> {
    if (dto.name !== undefined && dto.name !== doc.name) {
      // FerretDB reports a duplicate on update as an internal error, not 11000: check first.
      const taken = await this.movies.exists({ name: dto.name, _id: trusted({ $ne: doc._id }) });
      if (taken) throw new ConflictException(NAME_TAKEN);
    }
    doc.set(dto);
    try {
      return toMovieResponse(await doc.save());
    } catch (error) {
      if (isDuplicateKeyError(error)) throw new ConflictException(NAME_TAKEN);
      throw error;
    }
  }

  async remove(doc: MovieDocument): Promise<void> {
    await doc.deleteOne();
  }
}

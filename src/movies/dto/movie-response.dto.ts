import { ownedRecordFields } from '../../common/mappers/owned-record.mapper.js';
import type { MovieDocument } from '../schemas/movie.schema.js';

export class MovieResponseDto {
  id!: string;
  name!: string;
  casts!: string[];
  genres!: string[];
  /** Id of the user who added it. */
  addedBy!: string;
  createdAt!: Date;
  updatedAt!: Date;
}

export function toMovieResponse(doc: MovieDocument): MovieResponseDto {
  return {
    ...ownedRecordFields(doc, 'addedBy'),
    name: doc.name,
    casts: [...doc.casts],
    genres: [...doc.genres],
  };
}

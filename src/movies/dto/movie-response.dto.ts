import { ownedRecordFields } from '../../common/mappers/owned-record.mapper.js';
import type { MovieRecord } from '../schemas/movie.schema.js';

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

/** From a hydrated document or a plain (lean) one alike. */
export function toMovieResponse(doc: MovieRecord): MovieResponseDto {
  return {
    ...ownedRecordFields(doc, 'addedBy'),
    name: doc.name,
    // A lean read gets no schema defaults: a document stored without an array has none.
    casts: [...(doc.casts ?? [])],
    genres: [...(doc.genres ?? [])],
  };
}

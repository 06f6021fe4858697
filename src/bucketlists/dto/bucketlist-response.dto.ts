import { ownedRecordFields } from '../../common/mappers/owned-record.mapper.js';
import type { BucketlistDocument } from '../schemas/bucketlist.schema.js';

export class BucketlistResponseDto {
  id!: string;
  name!: string;
  /** Id of the user who owns it. */
  owner!: string;
  createdAt!: Date;
  updatedAt!: Date;
}

export function toBucketlistResponse(doc: BucketlistDocument): BucketlistResponseDto {
  return { ...ownedRecordFields(doc, 'owner'), name: doc.name };
}

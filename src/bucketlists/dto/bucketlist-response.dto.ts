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
  return {
    id: doc._id.toString(),
    name: doc.name,
    owner: doc.owner.toString(),
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

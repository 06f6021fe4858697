import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

import { Trim } from '../../auth/index.js';

/** Body of `POST` and `PUT /bucketlists/:id`. An owner field is refused (400). */
export class CreateBucketlistDto {
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name!: string;
}

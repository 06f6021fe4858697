import { PartialType } from '@nestjs/swagger';

import { CreateBucketlistDto } from './create-bucketlist.dto.js';

export class UpdateBucketlistDto extends PartialType(CreateBucketlistDto) {}

import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';

import { BucketlistsController } from './bucketlists.controller.js';
import { BucketlistsService } from './bucketlists.service.js';
import { Bucketlist, BucketlistSchema } from './schemas/bucketlist.schema.js';

@Module({
  imports: [MongooseModule.forFeature([{ name: Bucketlist.name, schema: BucketlistSchema }])],
  controllers: [BucketlistsController],
  providers: [BucketlistsService],
})
export class BucketlistsModule {}

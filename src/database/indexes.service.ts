import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';

/**
 * Uniqueness rules (email, movie name, ...) are unique indexes, so they must exist before the
 * first request: wait for every model's index build before the app starts listening.
 */
@Injectable()
export class IndexesService implements OnApplicationBootstrap {
  constructor(@InjectConnection() private readonly connection: Connection) {}

  async onApplicationBootstrap(): Promise<void> {
    await Promise.all(
      this.connection.modelNames().map((name) => this.connection.model(name).init()),
    );
  }
}

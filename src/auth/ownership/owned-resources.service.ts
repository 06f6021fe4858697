import { Injectable, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';

import { UserLifecycle } from '../accounts/user-lifecycle.service.js';
import type { OwnedRule } from '../core/decorators/owned.decorator.js';
import { OWNED_KEY } from '../core/decorators/owned.decorator.js';

export interface OwnedCollection {
  model: string;
  ownerField: string;
}

/**
 * The list of owned collections, read from the `@Owned(...)` routes themselves: protecting a
 * resource with the decorator is also what deletes it with its owner, so a new resource cannot
 * forget to cascade. Deletion goes through `Model.deleteMany`, so a schema's `deleteMany`
 * middleware can clean up what a document points to (e.g. cover files).
 */
@Injectable()
export class OwnedResources implements OnModuleInit, OnApplicationBootstrap {
  private collections: OwnedCollection[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly lifecycle: UserLifecycle,
    @InjectConnection() private readonly connection: Connection,
  ) {}

  onModuleInit(): void {
    this.lifecycle.register({ userDeleting: (userId) => this.deleteOwnedBy(userId) });
  }

  onApplicationBootstrap(): void {
    const found = new Map<string, OwnedCollection>();
    for (const wrapper of this.discovery.getControllers()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object') continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const handler = (prototype as Record<string, unknown>)[method];
        if (typeof handler !== 'function') continue;
        const owned = this.reflector.get<OwnedRule | undefined>(OWNED_KEY, handler);
        if (owned) found.set(`${owned.model}.${owned.ownerField}`, owned);
      }
    }
    this.collections = [...found.values()].map(({ model, ownerField }) => ({ model, ownerField }));
  }

  list(): readonly OwnedCollection[] {
    return this.collections;
  }

  async deleteOwnedBy(userId: string): Promise<void> {
    for (const { model, ownerField } of this.collections) {
      await this.connection.model(model).deleteMany({ [ownerField]: userId });
    }
  }
}

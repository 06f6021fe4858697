import type { Connection } from 'mongoose';

export interface IndexChanges {
  model: string;
  /** Key patterns built, e.g. `{"owner":1,"createdAt":-1,"_id":-1}`. */
  created: string[];
  /** Names of indexes no schema declares any more, dropped. */
  dropped: string[];
}

/**
 * Makes every model's indexes match its schema: creates its collection when missing, builds the
 * declared indexes that are missing and drops the ones no schema declares. What `npm run
 * db:indexes` runs at deploy time when MONGODB_AUTO_INDEX is off.
 */
export async function syncAllIndexes(connection: Connection): Promise<IndexChanges[]> {
  const changes: IndexChanges[] = [];
  for (const name of connection.modelNames()) {
    const model = connection.model(name);
    await model.createCollection();
    const diff = await model.diffIndexes();
    await model.syncIndexes();
    changes.push({
      model: name,
      created: diff.toCreate.map((keys) => JSON.stringify(keys)),
      dropped: diff.toDrop.map(String),
    });
  }
  return changes;
}

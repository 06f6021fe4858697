import type { Connection } from 'mongoose';

import { syncAllIndexes } from '../src/database/sync-indexes.js';
import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';
import { connectionOf } from './support/db.js';

/** MONGODB_AUTO_INDEX=false (production's default) and `npm run db:indexes`' sync. */
describe('index management', () => {
  let t: TestApp;
  let db: Connection;

  beforeAll(async () => {
    t = await createTestApp({ label: 'indexes', env: { MONGODB_AUTO_INDEX: 'false' } });
    db = connectionOf(t.app);
  });

  afterAll(() => t.close());

  const indexNames = async (collection: string): Promise<string[]> => {
    const exists = await db.db!.listCollections({ name: collection }).hasNext();
    if (!exists) return [];
    return (await db.db!.collection(collection).indexes()).map((i) => String(i.name));
  };

  it('builds no index at start-up when MONGODB_AUTO_INDEX is off', async () => {
    expect(await indexNames('movies')).not.toContain('addedBy_1_createdAt_-1__id_-1');
  });

  it('builds every declared index, drops stale ones, and reports both', async () => {
    await db.db!.collection('movies').createIndex({ genres: 1 }, { name: 'genres_1' });
    const changes = await syncAllIndexes(db);
    const movies = changes.find((c) => c.model === 'Movie');
    expect(movies?.created).toContain('{"addedBy":1,"createdAt":-1,"_id":-1}');
    expect(movies?.dropped).toEqual(['genres_1']);
    expect(await indexNames('movies')).toEqual(
      expect.arrayContaining(['name_1', 'addedBy_1_createdAt_-1__id_-1']),
    );
    expect(await indexNames('movies')).not.toContain('genres_1');
    expect(await indexNames('users')).toContain('email_1');
  });

  it('changes nothing the second time', async () => {
    const again = await syncAllIndexes(db);
    expect(again.filter((c) => c.created.length || c.dropped.length)).toEqual([]);
  });
});

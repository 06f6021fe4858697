import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import request from 'supertest';

import type { TestApp } from './support/app.js';
import { createTestApp } from './support/app.js';
import type { FerretDb } from './support/ferretdb.mjs';
import { startFerretDb } from './support/ferretdb.mjs';
import { signupAndLogin } from './support/users.js';

// This file runs its own FerretDB, because it stops and restarts the server.
describe('embedded database lifecycle', () => {
  let dataDir: string;
  let db: FerretDb;
  let t: TestApp;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'guardhouse-db-'));
    db = await startFerretDb(dataDir);
    t = await createTestApp({ mongoUri: `${db.uri}/lifecycle` });
  });

  afterAll(async () => {
    await t.close();
    await db.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function waitForHealth(status: number): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const res = await request(t.app.getHttpServer()).get('/api/health');
      if (res.status === status) return;
      if (Date.now() > deadline) throw new Error(`health stayed ${res.status}, wanted ${status}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  it('keeps acknowledged writes across a restart, and health follows the database', async () => {
    const connection = t.app.get<Connection>(getConnectionToken());
    const notes = connection.collection('persistence_probe');
    await notes.insertOne({ text: 'written before the restart' });

    await request(t.app.getHttpServer()).get('/api/health').expect(200);

    await db.stop();
    const down = await request(t.app.getHttpServer()).get('/api/health').expect(503);
    expect(down.body).toMatchObject({ status: 'error', error: { mongodb: { status: 'down' } } });

    db = await startFerretDb(dataDir, db.port);
    await waitForHealth(200);

    const found = await notes.findOne({ text: 'written before the restart' });
    expect(found).not.toBeNull();
  });

  it('answers 503 (not 500) on data routes while the database is down, then recovers by itself', async () => {
    const server = t.app.getHttpServer();
    const user = await signupAndLogin(t.app);
    const movie = { name: 'Acknowledged before the outage', casts: ['A'], genres: ['B'] };
    const created = await request(server)
      .post('/api/movies')
      .set(user.auth)
      .send(movie)
      .expect(201);

    await db.stop();
    const [list, read, create, login] = await Promise.all([
      request(server).get('/api/movies'),
      request(server).get(`/api/movies/${created.body.id}`),
      request(server)
        .post('/api/movies')
        .set(user.auth)
        .send({ ...movie, name: 'During the outage' }),
      request(server).post('/api/auth/login').send({ email: user.email, password: user.password }),
    ]);
    for (const res of [list, read, create, login]) {
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
      expect(res.text).not.toMatch(/Mongo|ECONNREFUSED|stack/i);
    }

    db = await startFerretDb(dataDir, db.port);
    await waitForHealth(200);
    const again = await request(server).get(`/api/movies/${created.body.id}`).expect(200);
    expect(again.body.name).toBe(movie.name);
    await request(server)
      .post('/api/movies')
      .set(user.auth)
      .send({ ...movie, name: 'After the outage' })
      .expect(201);
  });
});

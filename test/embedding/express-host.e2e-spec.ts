import type { INestApplication } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import jwt from 'jsonwebtoken';
import type { Connection } from 'mongoose';
import { Types } from 'mongoose';
import { Secret, TOTP } from 'otpauth';
import request from 'supertest';

import type { AuthModuleOptions } from '../../src/auth/index.js';
import { AuthModule, OwnedResources } from '../../src/auth/index.js';
import { testDatabaseUri } from '../support/app.js';
import { pollUntil } from '../support/wait.js';
import { createHost, HOST_ADMIN, HOST_AUTH, LEGACY_TOKENS } from './host.js';

// The host application (./host.ts) embeds the auth kit on Express; these tests drive the kit's
// routes and its notes resource through it.

interface Caller {
  id: string;
  auth: { Authorization: string };
}

describe('embedding the auth kit in an Express host', () => {
  let app: INestApplication;
  let server: ReturnType<INestApplication['getHttpServer']>;
  let mongoUri: string;
  let notes: ReturnType<Connection['collection']>;
  let admin: Caller;
  let owner: Caller;
  let other: Caller;

  async function login(email: string, password: string): Promise<Caller> {
    const res = await request(server).post('/api/auth/login').send({ email, password });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ tokenType: 'Bearer' });
    const auth = { Authorization: `Bearer ${res.body.accessToken}` };
    const me = await request(server).get('/api/users/me').set(auth).expect(200);
    return { id: me.body.id, auth };
  }

  let signups = 0;
  async function signupAndLogin(): Promise<Caller> {
    const email = `host-user-${++signups}-${Date.now()}@example.com`;
    const password = 'Host-pass-1!';
    const res = await request(server)
      .post('/api/auth/signup')
      .send({ email, password, name: 'Host User' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ email, role: 'user', active: true });
    expect(res.text).not.toMatch(/password|hash/i);
    return login(email, password);
  }

  async function createNote(who: Caller, text = 'a note'): Promise<string> {
    const res = await request(server).post('/api/notes').set(who.auth).send({ text });
    expect(res.status).toBe(201);
    expect(res.body.owner).toBe(who.id);
    return res.body.id as string;
  }

  const stored = (id: string) => notes.findOne({ _id: new Types.ObjectId(id) });

  beforeAll(async () => {
    mongoUri = testDatabaseUri('embedding');
    app = await createHost(mongoUri, AuthModule.forRoot(HOST_AUTH));
    server = app.getHttpServer();
    notes = app.get<Connection>(getConnectionToken()).collection('notes');
    admin = await login(HOST_ADMIN.email, HOST_ADMIN.password);
    owner = await signupAndLogin();
    other = await signupAndLogin();
  });

  afterAll(() => app.close());

  it('really runs on Express', () => {
    expect(app.getHttpAdapter().getType()).toBe('express');
  });

  it("signs up and logs in through the kit's own routes, with the host's validation", async () => {
    const res = await request(server).get('/api/users/me').set(owner.auth).expect(200);
    expect(res.body).toMatchObject({ id: owner.id, role: 'user' });
    const sneaky = await request(server)
      .post('/api/auth/signup')
      .send({ email: 'sneaky@example.com', password: 'Host-pass-1!', name: 'S', role: 'admin' });
    expect(sneaky.status).toBe(400);
    const weak = await request(server)
      .post('/api/auth/signup')
      .send({ email: 'weak@example.com', password: 'short', name: 'W' });
    expect(weak.status).toBe(400);
    const users = app.get<Connection>(getConnectionToken()).collection('users');
    expect(
      await users.countDocuments({ email: { $in: ['sneaky@example.com', 'weak@example.com'] } }),
    ).toBe(0);
    const wrong = await request(server)
      .post('/api/auth/login')
      .send({ email: HOST_ADMIN.email, password: 'Wrong-pass-1!' });
    expect(wrong.status).toBe(401);
  });

  it('logs in with a second factor: the password step gives no session, the code does', async () => {
    const email = `host-mfa-${Date.now()}@example.com`;
    const password = 'Host-pass-1!';
    await request(server).post('/api/auth/signup').send({ email, password, name: 'M' }).expect(201);
    const caller = await login(email, password);
    const start = await request(server)
      .post('/api/auth/mfa/totp')
      .set(caller.auth)
      .send({ password })
      .expect(201);
    expect(start.body.otpauthUri).toMatch(/^otpauth:\/\/totp\/Notes:/);
    const totp = new TOTP({ secret: Secret.fromBase32(start.body.secret) });
    await request(server)
      .post('/api/auth/mfa/totp/confirm')
      .set(caller.auth)
      .send({ code: totp.generate() })
      .expect(200);
    const first = await request(server)
      .post('/api/auth/login')
      .send({ email, password })
      .expect(200);
    expect(first.body).toEqual({ mfaRequired: true, mfaToken: expect.any(String), expiresIn: 300 });
    const second = await request(server)
      .post('/api/auth/login/mfa')
      .send({
        mfaToken: first.body.mfaToken,
        code: totp.generate({ timestamp: Date.now() + 30_000 }),
      })
      .expect(200);
    await request(server)
      .get('/api/notes')
      .set('Authorization', `Bearer ${second.body.accessToken}`)
      .expect(200);
    const sessions = await request(server)
      .get('/api/auth/sessions')
      .set('Authorization', `Bearer ${second.body.accessToken}`)
      .expect(200);
    expect(sessions.body.items.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
  });

  it("rotates refresh tokens through the kit's routes", async () => {
    const email = `refresh-${Date.now()}@example.com`;
    await request(server)
      .post('/api/auth/signup')
      .send({ email, password: 'Host-pass-1!', name: 'R' })
      .expect(201);
    const login = await request(server)
      .post('/api/auth/login')
      .send({ email, password: 'Host-pass-1!' })
      .expect(200);
    const rotated = await request(server)
      .post('/api/auth/refresh')
      .send({ refreshToken: login.body.refreshToken });
    expect(rotated.status).toBe(200);
    expect(rotated.body.refreshToken).not.toBe(login.body.refreshToken);
    await request(server)
      .post('/api/auth/refresh')
      .send({ refreshToken: login.body.refreshToken })
      .expect(401);
  });

  it('answers 401 with WWW-Authenticate and 429 with Retry-After without any host filter', async () => {
    const anonymous = await request(server).get('/api/notes').expect(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer');
    expect(anonymous.body).toMatchObject({ statusCode: 401 });
    const email = `throttled-${Date.now()}@example.com`;
    await request(server)
      .post('/api/auth/signup')
      .send({ email, password: 'Host-pass-1!', name: 'T' })
      .expect(201);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const wrong = await request(server)
        .post('/api/auth/login')
        .send({ email, password: 'Wrong-pass-1!' });
      expect(wrong.status).toBe(401);
      expect(wrong.headers['www-authenticate']).toBe('Bearer');
    }
    const limited = await request(server)
      .post('/api/auth/login')
      .send({ email, password: 'Host-pass-1!' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body).toMatchObject({ statusCode: 429 });
  });

  it('records an event type of its own through the kit’s recorder and reads it back', async () => {
    const id = await createNote(owner, 'shared note');
    await request(server)
      .post(`/api/notes/${id}/share`)
      .set(owner.auth)
      .set('User-Agent', 'NotesApp/3.0')
      .send({ with: 'team-blue' })
      .expect(204);
    await request(server)
      .post(`/api/notes/${id}/share`)
      .set(other.auth)
      .send({ with: 'intruder' })
      .expect(403);
    const mine = await pollUntil(
      () => request(server).get('/api/users/me/events?type=note.shared').set(owner.auth),
      (res) => res.status !== 200 || res.body.items.length > 0,
    );
    expect(mine.status).toBe(200);
    expect(mine.body.items).toEqual([
      expect.objectContaining({
        type: 'note.shared',
        actor: owner.id,
        subject: owner.id,
        session: expect.any(String),
        userAgent: 'NotesApp/3.0',
        detail: { noteId: id, with: 'team-blue' },
      }),
    ]);
    const all = await request(server)
      .get(`/api/audit-events?type=note.shared&subject=${owner.id}`)
      .set(admin.auth)
      .expect(200);
    expect(all.body.items.map((e: { id: string }) => e.id)).toEqual([mine.body.items[0].id]);
    // Only registered types are filters: a typo is a 400, not an empty list.
    await request(server).get('/api/users/me/events?type=note.sharde').set(owner.auth).expect(400);
  });

  it('serves the @Public() route to anonymous callers', async () => {
    const res = await request(server).get('/api/notes/about').expect(200);
    expect(res.body).toEqual({ service: 'notes' });
  });

  it('identifies the caller on an @OptionalAuth() route, and refuses an invalid token there', async () => {
    const anonymous = await request(server).get('/api/notes/count').expect(200);
    expect(anonymous.body).toEqual({ mine: null });
    await createNote(other, 'counted');
    const mine = await request(server).get('/api/notes/count').set(other.auth).expect(200);
    expect(mine.body.mine).toBe(
      await notes.countDocuments({ owner: new Types.ObjectId(other.id) }),
    );
    expect(mine.body.mine).toBeGreaterThan(0);
    await request(server)
      .get('/api/notes/count')
      .set('Authorization', 'Bearer not.a.jwt')
      .expect(401);
  });

  it("keeps its own passport-jwt strategy named 'jwt' apart from the kit's", async () => {
    // passport's default registry is one per process: had the kit registered its strategy there
    // as 'jwt', one of the two would have replaced the other and checked both kinds of token.
    const legacy = `Bearer ${jwt.sign({ sub: 'billing' }, LEGACY_TOKENS.secret, { issuer: LEGACY_TOKENS.issuer })}`;
    const res = await request(server).get('/api/legacy/whoami').set('Authorization', legacy);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ service: 'billing' });
    await request(server).get('/api/legacy/whoami').set(owner.auth).expect(401);
    await request(server).get('/api/notes').set('Authorization', legacy).expect(401);
    await request(server).get('/api/notes').set(owner.auth).expect(200);
  });

  it('refuses anonymous callers and bad tokens on protected routes (401)', async () => {
    await request(server).post('/api/notes').send({ text: 'x' }).expect(401);
    await request(server).get('/api/notes').expect(401);
    await request(server).get('/api/notes').set('Authorization', 'Bearer not.a.jwt').expect(401);
    expect(await notes.countDocuments({ text: 'x' })).toBe(0);
  });

  it('takes the owner from the token, never from the body', async () => {
    const res = await request(server)
      .post('/api/notes')
      .set(owner.auth)
      .send({ text: 'planted', owner: other.id });
    expect(res.status).toBe(400);
    expect(await notes.countDocuments({ text: 'planted' })).toBe(0);
    const id = await createNote(owner, 'mine');
    expect((await stored(id))?.owner).toEqual(new Types.ObjectId(owner.id));
  });

  it('lets the owner read, update and delete their note', async () => {
    const id = await createNote(owner);
    await request(server).get(`/api/notes/${id}`).set(owner.auth).expect(200);
    const res = await request(server)
      .patch(`/api/notes/${id}`)
      .set(owner.auth)
      .send({ text: 'edited' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, text: 'edited', owner: owner.id });
    await request(server).delete(`/api/notes/${id}`).set(owner.auth).expect(204);
    expect(await stored(id)).toBeNull();
  });

  it("refuses another user's read, update and delete (403) and changes nothing", async () => {
    const id = await createNote(owner, 'private thoughts');
    const before = await stored(id);
    await request(server).get(`/api/notes/${id}`).set(other.auth).expect(403);
    await request(server)
      .patch(`/api/notes/${id}`)
      .set(other.auth)
      .send({ text: 'hijacked' })
      .expect(403);
    await request(server).delete(`/api/notes/${id}`).set(other.auth).expect(403);
    expect(await stored(id)).toEqual(before);
  });

  it("lets an admin read, update and delete anyone's note", async () => {
    const id = await createNote(owner);
    await request(server).get(`/api/notes/${id}`).set(admin.auth).expect(200);
    await request(server)
      .patch(`/api/notes/${id}`)
      .set(admin.auth)
      .send({ text: 'moderated' })
      .expect(200);
    expect(await stored(id)).toMatchObject({ text: 'moderated' });
    await request(server).delete(`/api/notes/${id}`).set(admin.auth).expect(204);
    expect(await stored(id)).toBeNull();
  });

  it('answers 400 for a bad id and 404 for a missing note', async () => {
    await request(server).get('/api/notes/not-an-id').set(owner.auth).expect(400);
    const missing = new Types.ObjectId().toString();
    await request(server).get(`/api/notes/${missing}`).set(owner.auth).expect(404);
  });

  it("enforces the kit's roles on its admin routes", async () => {
    await request(server).get('/api/users').set(owner.auth).expect(403);
    await request(server).get('/api/users').set(admin.auth).expect(200);
  });

  it("deletes the host's notes with their owner when an admin deletes the user", async () => {
    expect(app.get(OwnedResources).list()).toContainEqual({ model: 'Note', ownerField: 'owner' });
    const doomed = await signupAndLogin();
    await createNote(doomed, 'doomed 1');
    await createNote(doomed, 'doomed 2');
    const kept = await createNote(other, 'kept');
    await request(server).delete(`/api/users/${doomed.id}`).set(owner.auth).expect(403);
    expect(await notes.countDocuments({ owner: new Types.ObjectId(doomed.id) })).toBe(2);
    await request(server).delete(`/api/users/${doomed.id}`).set(admin.auth).expect(204);
    expect(await notes.countDocuments({ owner: new Types.ObjectId(doomed.id) })).toBe(0);
    expect(await stored(kept)).not.toBeNull();
    await request(server).get('/api/users/me').set(doomed.auth).expect(401);
  });

  it('is configured just as well with forRootAsync({ imports, inject, useFactory })', async () => {
    const SETTINGS = Symbol('HOST_SETTINGS');
    @Module({ providers: [{ provide: SETTINGS, useValue: HOST_AUTH }], exports: [SETTINGS] })
    class HostSettingsModule {}
    const second = await createHost(
      mongoUri,
      AuthModule.forRootAsync({
        imports: [HostSettingsModule],
        inject: [SETTINGS],
        useFactory: (settings: AuthModuleOptions) => settings,
      }),
    );
    try {
      const res = await request(second.getHttpServer())
        .get('/api/notes')
        .set(owner.auth)
        .expect(200);
      expect(res.body.every((note: { owner: string }) => note.owner === owner.id)).toBe(true);
      await request(second.getHttpServer()).get('/api/notes').expect(401);
    } finally {
      await second.close();
    }
  });
});

import type { INestApplication } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { Types } from 'mongoose';
import request from 'supertest';

import { AuthModule } from '../../src/auth/index.js';
import { testDatabaseUri } from '../support/app.js';
import { expectUnchangedAfter, watchedCollections } from '../support/db.js';
import { resourceMaker, resourcesWithoutFixture } from '../support/fixtures.js';
import { ownedModels } from '../support/routes.js';
import { createHost, HOST_ADMIN, HOST_AUTH } from './host.js';

/**
 * Recipes (./recipes), a resource public or private one by one, added to the embedding host by
 * the checklist of docs/resources.md: its folder, one line in the host module, its fixture (below)
 * and its docs. Anonymous callers, the owner, another user and an admin on list, read, update and
 * delete, for a public and a private recipe; refused requests change nothing.
 */
type Actor = 'anonymous' | 'owner' | 'other' | 'admin';
const ACTORS: Actor[] = ['anonymous', 'owner', 'other', 'admin'];

interface Caller {
  id: string;
  auth: { Authorization: string };
}

interface RecipeBody {
  id: string;
  title: string;
  isPublic: boolean;
  owner: string;
}

describe('a resource public or private one by one (recipes, in the embedding host)', () => {
  let app: INestApplication;
  let server: ReturnType<INestApplication['getHttpServer']>;
  let recipes: ReturnType<Connection['collection']>;
  const callers = {} as Record<Exclude<Actor, 'anonymous'>, Caller>;

  async function login(email: string, password: string): Promise<Caller> {
    const res = await request(server).post('/api/auth/login').send({ email, password }).expect(200);
    const auth = { Authorization: `Bearer ${res.body.accessToken}` };
    const me = await request(server).get('/api/users/me').set(auth).expect(200);
    return { id: me.body.id, auth };
  }

  let signups = 0;
  async function signup(): Promise<Caller> {
    const email = `cook-${++signups}-${Date.now()}@example.com`;
    await request(server)
      .post('/api/auth/signup')
      .send({ email, password: 'Cook-pass-1!', name: 'Cook' })
      .expect(201);
    return login(email, 'Cook-pass-1!');
  }

  /** The fixture: a recipe created through the API; private unless a spec says otherwise. */
  let made = 0;
  async function recipe(owner: Caller, fields: Partial<RecipeBody> = {}): Promise<RecipeBody> {
    const res = await request(server)
      .post('/api/recipes')
      .set(owner.auth)
      .send({ title: `Recipe ${++made}`, ...fields });
    expect(res.status).toBe(201);
    return res.body as RecipeBody;
  }

  const as = (actor: Actor, req: request.Test) =>
    actor === 'anonymous' ? req : req.set(callers[actor].auth);
  const stored = (id: string) => recipes.findOne({ _id: new Types.ObjectId(id) });

  beforeAll(async () => {
    app = await createHost(testDatabaseUri('recipes'), AuthModule.forRoot(HOST_AUTH));
    server = app.getHttpServer();
    recipes = app.get<Connection>(getConnectionToken()).collection('recipes');
    callers.admin = await login(HOST_ADMIN.email, HOST_ADMIN.password);
    callers.owner = await signup();
    callers.other = await signup();
  });

  afterAll(() => app.close());

  // Anonymous callers are refused by authentication (401) before the document is looked at:
  // the answer is the same for a public, a private and a missing recipe.
  const MATRIX: {
    action: 'read' | 'update' | 'delete';
    visibility: 'public' | 'private';
    expect: Record<Actor, number>;
  }[] = [
    {
      action: 'read',
      visibility: 'public',
      expect: { anonymous: 200, owner: 200, other: 200, admin: 200 },
    },
    {
      action: 'read',
      visibility: 'private',
      expect: { anonymous: 404, owner: 200, other: 404, admin: 200 },
    },
    {
      action: 'update',
      visibility: 'public',
      expect: { anonymous: 401, owner: 200, other: 403, admin: 200 },
    },
    {
      action: 'update',
      visibility: 'private',
      expect: { anonymous: 401, owner: 200, other: 404, admin: 200 },
    },
    {
      action: 'delete',
      visibility: 'public',
      expect: { anonymous: 401, owner: 204, other: 403, admin: 204 },
    },
    {
      action: 'delete',
      visibility: 'private',
      expect: { anonymous: 401, owner: 204, other: 404, admin: 204 },
    },
  ];

  describe.each(MATRIX.map((row) => [`${row.action} a ${row.visibility} recipe`, row] as const))(
    '%s',
    (_name, row) => {
      it.each(ACTORS)('as %s', async (actor) => {
        const target = await recipe(callers.owner, { isPublic: row.visibility === 'public' });
        const path = `/api/recipes/${target.id}`;
        const title = `Changed by ${actor} (${row.visibility})`;
        const send = {
          read: () => request(server).get(path),
          update: () => request(server).patch(path).send({ title }),
          delete: () => request(server).delete(path),
        }[row.action];
        const status = row.expect[actor];
        const refused = status >= 400;
        const unchanged = refused ? await expectUnchangedAfter(app) : undefined;
        const res = await as(actor, send());
        expect({ actor, status: res.status }).toEqual({ actor, status });
        if (unchanged) {
          await unchanged();
          // A 404 is the same as for an id that does not exist: nothing is revealed.
          if (status === 404) expect(res.text).not.toContain(target.title);
          return;
        }
        if (row.action === 'read') expect(res.body).toEqual(target);
        if (row.action === 'update') {
          expect(res.body).toMatchObject({ id: target.id, owner: callers.owner.id });
          expect(await stored(target.id)).toMatchObject({ title });
        }
        if (row.action === 'delete') expect(await stored(target.id)).toBeNull();
      });
    },
  );

  describe('list', () => {
    let mine: { open: RecipeBody; closed: RecipeBody };
    let theirs: { open: RecipeBody; closed: RecipeBody };

    beforeAll(async () => {
      mine = {
        open: await recipe(callers.owner, { isPublic: true }),
        closed: await recipe(callers.owner),
      };
      theirs = {
        open: await recipe(callers.other, { isPublic: true }),
        closed: await recipe(callers.other),
      };
    });

    /** Which of the four recipes `actor` gets in the list (every page of it). */
    async function listed(actor: Actor, query = ''): Promise<string[]> {
      const names = new Map<string, string>([
        [mine.open.id, 'mine.open'],
        [mine.closed.id, 'mine.closed'],
        [theirs.open.id, 'theirs.open'],
        [theirs.closed.id, 'theirs.closed'],
      ]);
      const seen: string[] = [];
      let after: string | null = null;
      do {
        const page = `?limit=2${query}${after === null ? '' : `&after=${after}`}`;
        const res = await as(actor, request(server).get(`/api/recipes${page}`));
        expect(res.status).toBe(200);
        for (const item of res.body.items as RecipeBody[]) {
          const name = names.get(item.id);
          if (name) seen.push(name);
        }
        after = res.body.next as string | null;
      } while (after !== null);
      return seen.sort();
    }

    it.each([
      ['anonymous', ['mine.open', 'theirs.open']],
      ['owner', ['mine.closed', 'mine.open', 'theirs.open']],
      ['other', ['mine.open', 'theirs.closed', 'theirs.open']],
      ['admin', ['mine.closed', 'mine.open', 'theirs.closed', 'theirs.open']],
    ] as const)('as %s: the public recipes, your own, or all for an admin', async (actor, want) => {
      expect(await listed(actor)).toEqual(want);
    });

    it.each([
      ['anonymous', ['mine.open']],
      ['owner', ['mine.closed', 'mine.open']],
      ['other', ['mine.open']],
      ['admin', ['mine.closed', 'mine.open']],
    ] as const)("as %s, one owner's: all of it for them and admins", async (actor, want) => {
      expect(await listed(actor, `&owner=${callers.owner.id}`)).toEqual(want);
    });

    it('answers `owner=me` without a token with 401, and an invalid token with 401', async () => {
      await request(server).get('/api/recipes?owner=me').expect(401);
      await request(server).get('/api/recipes').set('Authorization', 'Bearer nope').expect(401);
      expect(await listed('owner', '&owner=me')).toEqual(['mine.closed', 'mine.open']);
    });
  });

  describe('titles (unique per owner, through the kit’s saveOr409 and saveUniqueOr409)', () => {
    it('refuses a second recipe with your title (409), not another cook’s', async () => {
      const first = await recipe(callers.owner, { title: 'Pancakes' });
      const unchanged = await expectUnchangedAfter(app);
      await request(server)
        .post('/api/recipes')
        .set(callers.owner.auth)
        .send({ title: 'Pancakes' })
        .expect(409);
      await unchanged();
      const theirs = await recipe(callers.other, { title: 'Pancakes' });
      expect(theirs.owner).not.toBe(first.owner);
    });

    it('refuses renaming into a title you already have (409), and changes nothing', async () => {
      await recipe(callers.owner, { title: 'Waffles' });
      const other = await recipe(callers.owner, { title: 'Crepes' });
      const unchanged = await expectUnchangedAfter(app);
      await request(server)
        .patch(`/api/recipes/${other.id}`)
        .set(callers.owner.auth)
        .send({ title: 'Waffles' })
        .expect(409);
      await unchanged();
    });
  });

  it('takes the owner from the token: an owner field is a 400', async () => {
    const unchanged = await expectUnchangedAfter(app);
    await request(server)
      .post('/api/recipes')
      .set(callers.owner.auth)
      .send({ title: 'Framed', owner: callers.other.id })
      .expect(400);
    await unchanged();
  });

  it('answers a bad id 400 and a missing one 404, with or without a token', async () => {
    await request(server).get('/api/recipes/not-an-id').expect(400);
    const missing = new Types.ObjectId().toString();
    await request(server).get(`/api/recipes/${missing}`).expect(404);
    await request(server).get(`/api/recipes/${missing}`).set(callers.admin.auth).expect(404);
  });

  it("deletes a user's recipes with the user (the @Owned cascade)", async () => {
    const doomed = await signup();
    await recipe(doomed, { isPublic: true });
    await recipe(doomed);
    const owner = new Types.ObjectId(doomed.id);
    expect(await recipes.countDocuments({ owner })).toBe(2);
    await request(server).delete(`/api/users/${doomed.id}`).set(callers.admin.auth).expect(204);
    expect(await recipes.countDocuments({ owner })).toBe(0);
  });

  describe('the derived lists see the new resource without an edit', () => {
    it('watches its collection in every "nothing changed" check, beside the kit’s', async () => {
      expect(await watchedCollections(app)).toEqual(
        expect.arrayContaining(['recipes', 'notes', 'users', 'sessions']),
      );
    });

    it('so a write to it during a refused request fails the check', async () => {
      const target = await recipe(callers.owner);
      const unchanged = await expectUnchangedAfter(app);
      await recipes.updateOne({ _id: new Types.ObjectId(target.id) }, { $set: { title: 'x' } });
      await expect(unchanged()).rejects.toThrow(/recipes/);
    });

    it('fails loudly, naming the model, where a product test needs a fixture it lacks', () => {
      // The product suite's fixtures know the product's models; this host's are new to them,
      // exactly as a product resource added without its fixture would be.
      expect(ownedModels(app)).toEqual(['Note', 'Recipe']);
      expect(resourcesWithoutFixture(ownedModels(app))).toEqual(['Note', 'Recipe']);
      expect(() => resourceMaker('Recipe')).toThrow(
        /No fixture makes a Recipe, an @Owned model: add .* to RESOURCE_FIXTURES in test\/support\/fixtures\.ts/,
      );
    });
  });
});

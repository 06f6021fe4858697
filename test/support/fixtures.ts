import { randomBytes } from 'node:crypto';

import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Response, Test } from 'supertest';
import request from 'supertest';

import type { ImageFormat } from './images.js';
import { blackPng, CONTENT_TYPES } from './images.js';
import type { TestUser } from './users.js';
import { loginAdmin, signupAndLogin } from './users.js';

/**
 * Test data created the way clients create it: over HTTP, through the real app. Specs ask for a
 * user, a movie, a book… and state only the fields their assertions depend on; every other field
 * gets a valid default that is unique across the file, so titles and names never collide.
 */

export interface MovieBody {
  id: string;
  name: string;
  casts: string[];
  genres: string[];
  addedBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface BookBody {
  id: string;
  title: string;
  description: string;
  category: string;
  owner: string;
  coverUrl: string;
  createdAt: string;
  updatedAt: string;
}

export interface TodoBody {
  id: string;
  title: string;
  description: string;
  due: string;
  done: boolean;
  owner: string;
  createdAt: string;
  updatedAt: string;
}

export interface BucketlistBody {
  id: string;
  name: string;
  owner: string;
  createdAt: string;
  updatedAt: string;
}

/** A file for the `cover_image` part of a book form. */
export interface CoverFile {
  image: Buffer;
  filename: string;
  contentType: string;
}

/** The cover books get unless a spec picks one: a tiny PNG, built synchronously and cheap. */
export const DEFAULT_COVER: CoverFile = {
  image: blackPng(60, 40),
  filename: 'cover.png',
  contentType: 'image/png',
};

/** Default todo descriptions start with this: private text that leak tests look for. */
export const TODO_NOTES = 'Secret notes';

/** `image` as a cover file named and typed for `format` (`cover.png`, `image/png`…). */
export const coverOf = (image: Buffer, format: ImageFormat = 'png'): CoverFile => ({
  image,
  filename: `cover.${format}`,
  contentType: CONTENT_TYPES[format],
});

/** `false`: no `cover_image` part at all. */
export type CoverChoice = CoverFile | false;

type Fields = Record<string, unknown>;

export interface Fixtures {
  /** A new account, signed up and logged in. */
  user(overrides?: { email?: string; password?: string; name?: string }): Promise<TestUser>;
  /** `count` new accounts, signed up and logged in. */
  users(count: number): Promise<TestUser[]>;
  /** The configured admin, logged in. */
  admin(): Promise<TestUser>;
  /** Makes `user` an admin, as the configured admin (or `by`). Their token still says "user". */
  promote(user: TestUser, by?: TestUser): Promise<void>;
  /** A new account promoted to admin (logged in before the promotion). */
  newAdmin(by?: TestUser): Promise<TestUser>;
  movie(owner: TestUser, fields?: Fields): Promise<MovieBody>;
  /** A book with the default cover, or `cover`; `false` sends no cover part. */
  book(owner: TestUser, fields?: Record<string, string>, cover?: CoverChoice): Promise<BookBody>;
  /**
   * The multipart create request itself, not yet sent and not checked, for specs whose subject is
   * that request (refused covers, missing fields…). No `title`/`category` defaults are added.
   */
  bookForm(owner: TestUser | undefined, fields: Record<string, string>, cover?: CoverChoice): Test;
  /**
   * A book create with default fields and `cover` (default: this spec's default cover), not yet
   * sent and not checked, for specs whose subject is the cover (refused images, limits…).
   */
  coverUpload(owner: TestUser, cover?: CoverFile): Test;
  todo(owner: TestUser, fields?: Fields): Promise<TodoBody>;
  bucketlist(owner: TestUser, fields?: Fields): Promise<BucketlistBody>;
  /**
   * A resource of the `@Owned` model `model` (`'Movie'`, …) owned by `owner`, with default fields
   * (private, for a resource whose documents are public one by one), for tests that go through
   * every resource. Throws, naming the model, when RESOURCE_FIXTURES has no maker for it.
   */
  owned(model: string, owner: TestUser): Promise<{ id: string }>;
}

/**
 * The maker of each product resource, by the model name of its `@Owned` routes: the line a new
 * resource adds to this file. The access matrix and the IDOR sweep create one per `@Owned` route
 * through it, and fail naming the model when it is missing.
 */
const RESOURCE_FIXTURES: Record<
  string,
  (make: Fixtures, owner: TestUser) => Promise<{ id: string }>
> = {
  Movie: (make, owner) => make.movie(owner),
  Book: (make, owner) => make.book(owner),
  Todo: (make, owner) => make.todo(owner),
  Bucketlist: (make, owner) => make.bucketlist(owner),
};

/** The models among `models` that RESOURCE_FIXTURES cannot make. */
export function resourcesWithoutFixture(models: readonly string[]): string[] {
  return models.filter((model) => !Object.hasOwn(RESOURCE_FIXTURES, model));
}

/** The maker of `model` in RESOURCE_FIXTURES; throws, naming the model, when there is none. */
export function resourceMaker(
  model: string,
): (make: Fixtures, owner: TestUser) => Promise<{ id: string }> {
  if (Object.hasOwn(RESOURCE_FIXTURES, model)) return RESOURCE_FIXTURES[model];
  throw new Error(
    `No fixture makes a ${model}, an @Owned model: add \`${model}: (make, owner) => …\` to ` +
      'RESOURCE_FIXTURES in test/support/fixtures.ts',
  );
}

/** Unique within the test process (each e2e file runs in its own process and database). */
let sequence = 0;
const run = randomBytes(3).toString('hex');
const unique = (label: string): string => `${label} ${++sequence}-${run}`;

const bookDefaults = () => ({ title: unique('Book'), category: 'fantasy' });

function created<T>(what: string, res: Response): T {
  if (res.status !== 201) throw new Error(`creating ${what} failed: ${res.status} ${res.text}`);
  return res.body as T;
}

/**
 * Fixtures for one app. `cover` replaces the default book cover for this spec (a JPEG photo for a
 * spec about thumbnails, say).
 */
export function fixtures(
  app: NestFastifyApplication,
  options: { cover?: CoverFile } = {},
): Fixtures {
  const defaultCover = options.cover ?? DEFAULT_COVER;
  const server = () => app.getHttpServer();
  const post = (path: string, owner: TestUser, body: Fields) =>
    request(server()).post(path).set(owner.auth).send(body);

  const bookForm: Fixtures['bookForm'] = (owner, fields, cover = defaultCover) => {
    let req = request(server()).post('/api/books');
    if (owner) req = req.set(owner.auth);
    for (const [name, value] of Object.entries(fields)) req = req.field(name, value);
    return cover
      ? req.attach('cover_image', cover.image, {
          filename: cover.filename,
          contentType: cover.contentType,
        })
      : req;
  };

  const promote: Fixtures['promote'] = async (user, by) => {
    const admin = by ?? (await loginAdmin(app));
    const res = await request(server())
      .patch(`/api/users/${user.id}`)
      .set(admin.auth)
      .send({ role: 'admin' });
    if (res.status !== 200) throw new Error(`promotion failed: ${res.status} ${res.text}`);
  };

  const make: Fixtures = {
    user: (overrides) => signupAndLogin(app, overrides),
    users: (count) => Promise.all(Array.from({ length: count }, () => signupAndLogin(app))),
    admin: () => loginAdmin(app),
    promote,
    async newAdmin(by) {
      const user = await signupAndLogin(app);
      await promote(user, by);
      return user;
    },
    async movie(owner, fields = {}) {
      const body = { name: unique('Movie'), casts: ['Actor'], genres: ['drama'], ...fields };
      return created<MovieBody>('a movie', await post('/api/movies', owner, body));
    },
    async book(owner, fields = {}, cover) {
      const form = { ...bookDefaults(), ...fields };
      return created<BookBody>('a book', await bookForm(owner, form, cover));
    },
    bookForm,
    coverUpload: (owner, cover) => bookForm(owner, bookDefaults(), cover),
    async todo(owner, fields = {}) {
      const body = {
        title: unique('Todo'),
        description: unique(TODO_NOTES),
        due: '2030-01-01T12:00:00Z',
        ...fields,
      };
      return created<TodoBody>('a todo', await post('/api/todos', owner, body));
    },
    async bucketlist(owner, fields = {}) {
      const body = { name: unique('List'), ...fields };
      return created<BucketlistBody>('a bucket list', await post('/api/bucketlists', owner, body));
    },
    owned: async (model, owner) => resourceMaker(model)(make, owner),
  };
  return make;
}

import { Types } from 'mongoose';

import {
  type DeclaredIndex,
  declaredIndexes,
  type Direction,
  formatShape,
  type QueryShape,
  serves,
  servingIndexes,
  shapeOfFilter,
  shapeOfSort,
} from './index-coverage.js';

const index = (keys: Record<string, Direction>, unique = false): DeclaredIndex => ({
  keys: Object.entries(keys),
  unique,
});
const query = (filter: object, sort: object = {}, op = 'find'): QueryShape => ({
  model: 'M',
  op,
  filter: shapeOfFilter(filter),
  sort: shapeOfSort(sort),
});
const served = (q: QueryShape, ...indexes: DeclaredIndex[]) =>
  servingIndexes(q, declaredIndexes([]).concat(indexes)) !== null;

describe('query shapes', () => {
  it('tells equality (values, $eq, $in, ObjectId, Date) from ranges, values dropped', () => {
    const shape = shapeOfFilter({
      owner: new Types.ObjectId(),
      due: new Date(),
      role: { $in: ['a'] },
      name: { $eq: 'x' },
      at: { $gt: new Date() },
      _id: { $ne: 'x' },
    });
    expect(shape).toEqual({
      eq: ['due', 'name', 'owner', 'role'],
      range: ['at'],
      not: ['_id'],
      ors: [],
    });
  });

  it('merges $and and keeps each $or as alternatives', () => {
    const shape = shapeOfFilter({ $and: [{ a: 1 }, { b: { $lt: 2 } }], $or: [{ c: 1 }, { d: 2 }] });
    expect(shape.eq).toEqual(['a']);
    expect(shape.range).toEqual(['b']);
    expect(shape.ors).toEqual([[shapeOfFilter({ c: 1 }), shapeOfFilter({ d: 2 })]]);
  });

  it('reads sort orders in any spelling, in order', () => {
    expect(shapeOfSort({ b: 'desc', a: 1, c: -1 })).toEqual([
      ['b', -1],
      ['a', 1],
      ['c', -1],
    ]);
  });

  it('formats a shape for the report', () => {
    expect(formatShape(query({ owner: 1, at: { $gt: 1 } }, { at: -1 }))).toBe(
      'M.find({ owner: =, at: range }) sort { at: -1 }',
    );
  });
});

describe('the equality–sort–range rule', () => {
  const ownerNewest = index({ owner: 1, createdAt: -1, _id: -1 });

  it('serves equality prefix, then the sort, either direction', () => {
    expect(served(query({ owner: 1 }, { createdAt: -1, _id: -1 }), ownerNewest)).toBe(true);
    expect(served(query({ owner: 1 }, { createdAt: 1, _id: 1 }), ownerNewest)).toBe(true);
  });

  it('refuses a sort in mixed directions against the index', () => {
    expect(served(query({ owner: 1 }, { createdAt: -1, _id: 1 }), ownerNewest)).toBe(false);
  });

  it('refuses a sort that the index does not continue after the equality prefix', () => {
    expect(served(query({ owner: 1 }, { due: 1, _id: 1 }), ownerNewest)).toBe(false);
    // Sort missing the tie-breaker key in the index: an in-memory sort of every tie.
    expect(served(query({}, { createdAt: -1, _id: -1 }), index({ createdAt: -1 }))).toBe(false);
  });

  it('refuses an index whose first key the filter does not pin (equality must come first)', () => {
    expect(served(query({ createdAt: 1 }), ownerNewest)).toBe(false);
    expect(
      served(query({ genres: 'x' }, { createdAt: -1, _id: -1 }), index({ createdAt: -1, _id: -1 })),
    ).toBe(false);
  });

  it('refuses a range before the sort (blocking sort), accepts it after', () => {
    const q = query({ email: 'e', at: { $gt: 1 } }, { ip: 1 });
    expect(served(q, index({ email: 1, at: 1, ip: 1 }))).toBe(false);
    expect(served(q, index({ email: 1, ip: 1, at: 1 }))).toBe(true);
  });

  it('accepts a range on the sort key itself', () => {
    expect(served(query({ at: { $gt: 1 } }, { at: 1 }), index({ at: 1 }))).toBe(true);
  });

  it('drops sort keys that the filter pins', () => {
    const q = query({ owner: 1, createdAt: 5, _id: { $lt: 3 } }, { createdAt: -1, _id: -1 });
    expect(serves(ownerNewest, { eq: q.filter.eq, range: q.filter.range }, q.sort)).toBe(true);
  });

  it('does not count a negation ($ne, $nin) as a bound', () => {
    expect(served(query({ name: 'x', _id: { $ne: 1 } }))).toBe(false);
    expect(served(query({ name: 'x', _id: { $ne: 1 } }), index({ name: 1 }, true))).toBe(true);
  });

  it('names the index that bounds the most keys', () => {
    const q = query({ email: 1, ip: 2, at: { $gt: 1 } });
    const best = index({ email: 1, ip: 1, at: 1 });
    expect(servingIndexes(q, [index({ email: 1, at: 1 }), best, index({ email: 1 })])).toEqual([
      best,
    ]);
  });

  it('serves any lookup by _id, and any order for a fully pinned unique index', () => {
    expect(served(query({ _id: 1, owner: 2 }, { createdAt: 1 }))).toBe(true);
    expect(served(query({ email: 'e' }, { name: 1 }), index({ email: 1 }, true))).toBe(true);
    expect(served(query({ email: 'e' }, { name: 1 }), index({ email: 1 }))).toBe(false);
  });

  it('refuses an empty filter without sort (a collection scan), except metadata counts', () => {
    expect(served(query({}), ownerNewest)).toBe(false);
    expect(served(query({}, {}, 'estimatedDocumentCount'))).toBe(true);
  });

  it('needs every branch of an $or served, with the conditions outside it', () => {
    const q = query(
      { owner: 1, $or: [{ createdAt: { $lt: 1 } }, { createdAt: 1, _id: { $lt: 2 } }] },
      { createdAt: -1, _id: -1 },
    );
    expect(served(q, ownerNewest)).toBe(true);
    const unservedBranch = query({ $or: [{ owner: 1 }, { title: 'x' }] });
    expect(served(unservedBranch, ownerNewest)).toBe(false);
  });

  describe('a filter that lives only inside an $or ("public or mine")', () => {
    const publicOrMine = query(
      { $or: [{ isPublic: true }, { owner: 1 }] },
      { createdAt: -1, _id: -1 },
    );
    const newest = index({ createdAt: -1, _id: -1 });
    const publicNewest = index({ isPublic: 1, createdAt: -1, _id: -1 });

    it('is not served by the sort index alone (a full index scan, filtered as it goes)', () => {
      expect(served(publicOrMine, newest)).toBe(false);
      expect(served(publicOrMine, newest, ownerNewest)).toBe(false);
    });

    it('is served when every branch has an index of its own, each giving the order', () => {
      expect(servingIndexes(publicOrMine, [newest, publicNewest, ownerNewest])).toEqual([
        publicNewest,
        ownerNewest,
      ]);
    });

    it('is refused when one branch is not served, whichever it is', () => {
      expect(served(publicOrMine, newest, publicNewest)).toBe(false);
      expect(served(publicOrMine, newest, ownerNewest)).toBe(false);
      // A branch index that does not give the order is a blocking sort.
      expect(served(publicOrMine, index({ isPublic: 1 }), ownerNewest)).toBe(false);
    });

    it("checks the next page (the cursor's $or beside it) the same way", () => {
      const after = { $or: [{ createdAt: { $lt: 1 } }, { createdAt: 1, _id: { $lt: 2 } }] };
      const nextPage = query(
        { $and: [{ $or: [{ isPublic: true }, { owner: 1 }] }, after] },
        { createdAt: -1, _id: -1 },
      );
      expect(served(nextPage, newest, publicNewest, ownerNewest)).toBe(true);
      expect(served(nextPage, publicNewest, ownerNewest)).toBe(true);
      // The cursor's own $or bounds the scan by a range on the sort index: accepted, as for
      // any keyset page of an unfiltered list.
      expect(served(query(after, { createdAt: -1, _id: -1 }), newest)).toBe(true);
    });

    it('keeps a negation inside a branch from counting as a bound', () => {
      const q = query({ $or: [{ pending: { $ne: true } }, { owner: 1 }] }, { createdAt: -1 });
      expect(served(q, index({ createdAt: -1 }), ownerNewest)).toBe(false);
    });
  });

  it('ignores hashed or text keys for order and ranges', () => {
    expect(declaredIndexes([[{ a: 'hashed' }, {}]])[1].keys).toEqual([['a', 'hashed']]);
    expect(served(query({}, { a: 1 }), ...declaredIndexes([[{ a: 'hashed' }, {}]]))).toBe(false);
  });
});

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

  it('ignores hashed or text keys for order and ranges', () => {
    expect(declaredIndexes([[{ a: 'hashed' }, {}]])[1].keys).toEqual([['a', 'hashed']]);
    expect(served(query({}, { a: 1 }), ...declaredIndexes([[{ a: 'hashed' }, {}]]))).toBe(false);
  });
});

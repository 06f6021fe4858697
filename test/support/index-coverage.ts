/**
 * The equality–sort–range rule, applied to the query shapes the e2e run records
 * (query-recorder.ts) and the indexes each Mongoose schema declares. A query that no index
 * serves by this rule is a collection scan (or an unbounded in-memory sort) on MongoDB.
 */

/**
 * One conjunction of conditions: fields compared for equality (`x`, `$eq`, `$in`), by a range
 * that bounds an index scan (`$gt`, `$lte`, `$regex`, ...), or by a negation (`$ne`, `$nin`,
 * `$not`) that bounds nothing and is filtered after the fetch.
 */
export interface Conditions {
  eq: string[];
  range: string[];
  not?: string[];
}

/** A filter: its conditions, plus each `$or` as alternatives that must all be served. */
export interface FilterShape extends Conditions {
  ors: Conditions[][];
}

export type Direction = 1 | -1;

export interface QueryShape {
  model: string;
  op: string;
  filter: FilterShape;
  sort: [string, Direction][];
}

export interface DeclaredIndex {
  keys: [string, Direction | string][];
  unique: boolean;
}

/** Operators that pin a field to points of an index (MongoDB plans `$in` as point intervals). */
const EQUALITY_OPERATORS = new Set(['$eq', '$in']);
const NEGATION_OPERATORS = new Set(['$ne', '$nin', '$not']);
/** Operators that only narrow the documents (`$nor`, `$expr`, ... are filtered after the fetch). */
const LOGICAL_OPERATORS = new Set(['$and', '$or', '$nor', '$expr', '$where', '$comment', '$text']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function operatorsOf(value: unknown): string[] | null {
  if (!isPlainObject(value)) return null;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((k) => k.startsWith('$')) ? keys : null;
}

function addCondition(into: Conditions, field: string, value: unknown): void {
  const operators = operatorsOf(value);
  let list = into.range;
  if (!operators || operators.some((o) => EQUALITY_OPERATORS.has(o))) list = into.eq;
  else if (operators.every((o) => NEGATION_OPERATORS.has(o))) list = into.not ??= [];
  if (!list.includes(field)) list.push(field);
}

function collect(filter: Record<string, unknown>, into: FilterShape): void {
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and' && Array.isArray(value)) {
      for (const part of value) if (isPlainObject(part)) collect(part, into);
    } else if (key === '$or' && Array.isArray(value)) {
      into.ors.push(value.filter(isPlainObject).map((branch) => shapeOfFilter(branch)));
    } else if (!LOGICAL_OPERATORS.has(key)) {
      addCondition(into, key, value);
    }
  }
}

/** The shape of a Mongo filter: which fields are compared how, values dropped. */
export function shapeOfFilter(filter: unknown): FilterShape {
  const shape: FilterShape = { eq: [], range: [], ors: [] };
  if (isPlainObject(filter)) collect(filter, shape);
  shape.eq.sort();
  shape.range = shape.range.filter((f) => !shape.eq.includes(f)).sort();
  if (shape.not) shape.not = shape.not.filter((f) => !shape.eq.includes(f)).sort();
  return shape;
}

/** A sort option as Mongoose keeps it (`{ a: -1, b: 'asc' }`) as ordered [field, ±1] pairs. */
export function shapeOfSort(sort: unknown): [string, Direction][] {
  if (!isPlainObject(sort)) return [];
  return Object.entries(sort).map(([field, order]) => {
    const descending = order === -1 || order === 'desc' || order === 'descending';
    return [field, descending ? -1 : 1];
  });
}

/** `{ owner: 1, createdAt: -1 }` as it appears in reports. */
export function formatKeys(keys: readonly (readonly [string, unknown])[]): string {
  return `{ ${keys.map(([f, d]) => `${f}: ${String(d)}`).join(', ')} }`;
}

export function formatShape(shape: QueryShape): string {
  const conditions = (c: Conditions) => [
    ...c.eq.map((f) => `${f}: =`),
    ...c.range.map((f) => `${f}: range`),
    ...(c.not ?? []).map((f) => `${f}: not`),
  ];
  const parts = conditions(shape.filter);
  for (const or of shape.filter.ors) {
    parts.push(`$or: [${or.map((b) => `{ ${conditions(b).join(', ')} }`).join(' | ')}]`);
  }
  const sort = shape.sort.length ? ` sort ${formatKeys(shape.sort)}` : '';
  return `${shape.model}.${shape.op}({ ${parts.join(', ')} })${sort}`;
}

/** Does `index` serve equality on `eq`, ranges on `range` and the `sort`, by the ESR rule? */
export function serves(
  index: DeclaredIndex,
  conditions: Conditions,
  sort: readonly [string, Direction][],
): boolean {
  return keysUsed(index, conditions, sort) !== null;
}

/**
 * How many of `index`'s keys bound or order the scan when it serves the query, else null.
 * `narrowed`: the query has conditions besides `conditions` (an `$or`) that the index cannot bound.
 */
function keysUsed(
  index: DeclaredIndex,
  conditions: Conditions,
  sort: readonly [string, Direction][],
  narrowed = false,
): number | null {
  const { eq, range } = conditions;
  const keys = index.keys;
  // A non-±1 key (hashed, text, 2dsphere) serves neither order nor ranges: stop before it.
  const usable = keys.findIndex(([, d]) => d !== 1 && d !== -1);
  const ordered = usable === -1 ? keys : keys.slice(0, usable);
  let i = 0;
  // E: the leading keys the filter pins to one value.
  while (i < ordered.length && eq.includes(ordered[i][0])) i++;
  const equality = i;
  // At most one document: any order is free.
  if (index.unique && equality === keys.length && equality > 0) return equality + 1;
  // S: the sort, minus fields the filter pins (constant in the answer), next, in one direction.
  const sortRest = sort.filter(([f]) => !eq.includes(f));
  let sign = 0;
  for (const [field, direction] of sortRest) {
    if (i >= ordered.length || ordered[i][0] !== field) return null;
    const s = direction * (ordered[i][1] as number);
    if (sign !== 0 && s !== sign) return null;
    sign = s;
    i++;
  }
  // R: a range on a sort key or on the key right after the sort bounds the scan.
  const rangeAfter = i < ordered.length && range.includes(ordered[i][0]);
  const rangeBound = rangeAfter || ordered.slice(equality, i).some(([f]) => range.includes(f));
  const filtered =
    narrowed || eq.length > 0 || range.length > 0 || (conditions.not?.length ?? 0) > 0;
  if (equality === 0 && sortRest.length === 0 && !rangeBound) return null;
  // A filter the index ignores is a full index scan: the index must bound it, not only order it.
  if (filtered && equality === 0 && !rangeBound) return null;
  return i + (rangeAfter ? 1 : 0);
}

/** Operations that read no documents to answer. */
const METADATA_OPERATIONS = new Set(['estimatedDocumentCount']);

/**
 * The index serving `shape` (for `$or`: one per branch), or null when none does.
 * The conditions outside an `$or` apply to every branch. An index that bounds none of the
 * conditions outside the `$or` serves the query only by its order: that is a full index scan,
 * filtered as it goes (`find({ $or: [{ public: true }, { owner }] }).sort({ createdAt: -1 })` on
 * `{ createdAt: -1 }`), so each branch must then be served as a query of its own.
 */
export function servingIndexes(
  shape: QueryShape,
  indexes: readonly DeclaredIndex[],
): DeclaredIndex[] | null {
  if (METADATA_OPERATIONS.has(shape.op)) return [];
  // The index that bounds the scan on the most keys, as MongoDB's planner would pick.
  const find = (c: Conditions, narrowed = false): DeclaredIndex | undefined => {
    let best: DeclaredIndex | undefined;
    let bestUsed = 0;
    for (const index of indexes) {
      const used = keysUsed(index, c, shape.sort, narrowed);
      if (used !== null && used > bestUsed) [best, bestUsed] = [index, used];
    }
    return best;
  };
  const whole = find(shape.filter, shape.filter.ors.length > 0);
  if (whole) return [whole];
  for (const or of shape.filter.ors) {
    const found = or.map((branch) =>
      find({
        eq: [...shape.filter.eq, ...branch.eq],
        range: [...shape.filter.range, ...branch.range],
        not: [...(shape.filter.not ?? []), ...(branch.not ?? [])],
      }),
    );
    if (or.length > 0 && found.every((index) => index !== undefined)) return found;
  }
  return null;
}

/** `schema.indexes()` entries plus the implicit `_id` index, as DeclaredIndex values. */
export function declaredIndexes(
  schemaIndexes: readonly (readonly [Record<string, unknown>, Record<string, unknown>?])[],
): DeclaredIndex[] {
  return [
    { keys: [['_id', 1]], unique: true },
    ...schemaIndexes.map(([fields, options]) => ({
      keys: Object.entries(fields).map(([f, d]): [string, Direction | string] => [
        f,
        d === 1 || d === -1 ? d : String(d),
      ]),
      unique: options?.unique === true,
    })),
  ];
}

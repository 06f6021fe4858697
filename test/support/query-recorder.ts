import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import mongoose, {
  type Aggregate,
  type MongooseQueryMiddleware,
  type Query,
  type Schema,
} from 'mongoose';

import { declaredIndexes, type QueryShape, shapeOfFilter, shapeOfSort } from './index-coverage.js';

/**
 * Records the shape of every query a Mongoose model sends during the e2e run (model, operation,
 * filter fields and operators, sort), one JSON line per distinct shape, with the indexes the
 * model's schema declares. test/zz-index-coverage.e2e-spec.ts checks them once every file ran.
 * Raw collection reads in tests (db.ts snapshots) go around the models and are not recorded.
 */

/** One file per run and jest worker; global-setup.mjs empties the folder at the start of a run. */
export function queryShapesDir(): string {
  return process.env.GUARDHOUSE_QUERY_SHAPES ?? join(process.cwd(), 'reports', 'query-shapes');
}

export interface RecordedShape extends QueryShape {
  indexes: ReturnType<typeof declaredIndexes>;
  /** The first e2e file that sent it, to find the caller. */
  seenIn: string;
}

const seen = new Set<string>();

function currentTestFile(): string {
  const state = (globalThis as { expect?: { getState(): { testPath?: string } } }).expect;
  const path = state?.getState().testPath ?? '';
  return path.replace(`${process.cwd()}/`, '');
}

function record(shape: QueryShape, schema: Schema): void {
  const key = JSON.stringify(shape);
  if (seen.has(key)) return;
  seen.add(key);
  const line: RecordedShape = {
    ...shape,
    indexes: declaredIndexes(schema.indexes()),
    seenIn: currentTestFile(),
  };
  const dir = queryShapesDir();
  mkdirSync(dir, { recursive: true });
  appendFileSync(
    join(dir, `worker-${process.env.JEST_WORKER_ID ?? '1'}.jsonl`),
    `${JSON.stringify(line)}\n`,
  );
}

const QUERY_OPERATIONS: MongooseQueryMiddleware[] = [
  'countDocuments',
  'distinct',
  'estimatedDocumentCount',
  'find',
  'findOne',
  'findOneAndReplace',
  'findOneAndUpdate',
  'replaceOne',
  'updateMany',
  'updateOne',
  'deleteMany',
  'deleteOne',
  'findOneAndDelete',
];

function recordQueries(schema: Schema): void {
  schema.pre(
    QUERY_OPERATIONS,
    { query: true, document: false },
    function (this: Query<unknown, unknown>) {
      record(
        {
          model: this.model.modelName,
          op: (this as unknown as { op?: string }).op ?? 'unknown',
          filter: shapeOfFilter(this.getFilter()),
          sort: shapeOfSort(this.getOptions().sort),
        },
        this.model.schema,
      );
    },
  );
  // No aggregation in src today; one added later is checked by its leading $match and $sort.
  schema.pre('aggregate', function (this: Aggregate<unknown>) {
    const stages = this.pipeline() as unknown as Record<string, unknown>[];
    const match = stages[0]?.$match;
    const sortStage = stages.find((s) => '$sort' in s)?.$sort;
    const model = this.model();
    record(
      {
        model: model.modelName,
        op: 'aggregate',
        filter: shapeOfFilter(match),
        sort: shapeOfSort(sortStage),
      },
      model.schema,
    );
  });
}

/** Every model compiled after this (the app's, in each e2e file) records its queries. */
export function installQueryRecorder(): void {
  mongoose.plugin(recordQueries);
}

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { formatKeys, formatShape, servingIndexes } from './support/index-coverage.js';
import { queryShapesDir, type RecordedShape } from './support/query-recorder.js';

/**
 * Runs after every other e2e file (test/support/sequencer.mjs): each query shape a model sent
 * during the run must be served by an index its schema declares, by the equality–sort–range
 * rule; one that is not is a collection scan on MongoDB. The table of shapes and serving
 * indexes goes to reports/index-coverage.txt.
 */
function recordedShapes(): RecordedShape[] {
  const dir = queryShapesDir();
  if (!existsSync(dir)) return [];
  const byKey = new Map<string, RecordedShape>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.jsonl'))) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!line) continue;
      const shape = JSON.parse(line) as RecordedShape;
      byKey.set(formatShape(shape), byKey.get(formatShape(shape)) ?? shape);
    }
  }
  return [...byKey.values()].sort((a, b) => formatShape(a).localeCompare(formatShape(b)));
}

describe('index coverage (every recorded query is index-backed on MongoDB)', () => {
  const shapes = recordedShapes();

  it('has recorded the queries of this run', () => {
    // This file runs last; at the very least the app's start-up queries of other files are here.
    expect(shapes.length).toBeGreaterThan(0);
  });

  it('finds a declared index serving every query by the equality–sort–range rule', () => {
    const report: string[] = [];
    const unserved: string[] = [];
    for (const shape of shapes) {
      const found = servingIndexes(shape, shape.indexes);
      const name = formatShape(shape);
      if (found === null) {
        unserved.push(`${name}  (model ${shape.model}, first sent in ${shape.seenIn})`);
        report.push(`${name}  ->  NO INDEX`);
      } else {
        const served = found.length ? found.map((i) => formatKeys(i.keys)).join(' + ') : 'metadata';
        report.push(`${name}  ->  ${served}`);
      }
    }
    mkdirSync(join(process.cwd(), 'reports'), { recursive: true });
    writeFileSync(join(process.cwd(), 'reports', 'index-coverage.txt'), `${report.join('\n')}\n`);
    expect(unserved).toEqual([]);
  });
});

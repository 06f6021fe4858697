// Writes the module graph into docs/architecture.md between its markers, from the same
// dependency-cruiser analysis `npm run lint` checks (one node per top-level folder of src/).
// `--check` fails when the committed graph no longer matches the code.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const page = join(root, 'docs', 'architecture.md');
const START = '<!-- module-graph:start -->';
const END = '<!-- module-graph:end -->';

const edges = execFileSync(
  join(root, 'node_modules', '.bin', 'depcruise'),
  [
    'src',
    '--config',
    '.dependency-cruiser.cjs',
    '--collapse',
    '^src/[^/]+/',
    '--output-type',
    'text',
  ],
  { cwd: root, encoding: 'utf8' },
)
  .split('\n')
  .filter((line) => /^src\/.* → src\//.test(line))
  .map((line) => line.replaceAll('src/', '').replace(/\/(?= |$)/g, ''));
const graph = [...new Set(edges)].sort().join('\n');
const block = `${START}\n\n\`\`\`text\n${graph}\n\`\`\`\n\n${END}`;

const text = readFileSync(page, 'utf8');
const start = text.indexOf(START);
const end = text.indexOf(END);
if (start < 0 || end < start) throw new Error(`${page} lacks the ${START} / ${END} markers`);
const next = text.slice(0, start) + block + text.slice(end + END.length);
if (process.argv.includes('--check')) {
  if (next !== text) {
    console.error('docs/architecture.md: module graph is stale; run `npm run docs:graph`');
    process.exit(1);
  }
} else {
  writeFileSync(page, next);
}

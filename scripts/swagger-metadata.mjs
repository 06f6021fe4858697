// Generates src/metadata.ts with the @nestjs/swagger CLI plugin's ReadonlyVisitor, so that code
// compiled without the Nest CLI (ts-jest, `npm run openapi`) documents DTOs and responses exactly
// like `nest build` does. The file is committed; a stale one makes every answer with a field the
// metadata does not know fail the contract check ("unevaluated properties").
//   (no flag)    regenerate src/metadata.ts (build, scripts/test.sh)
//   --if-stale   regenerate only when a file under src/ changed after it (the test scripts)
//   --check      fail when src/metadata.ts differs from what would be generated (npm run lint)
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { PluginMetadataGenerator } from '@nestjs/cli/lib/compiler/plugins/plugin-metadata-generator.js';
import { ReadonlyVisitor } from '@nestjs/swagger/plugin';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const src = join(root, 'src');
const target = join(src, 'metadata.ts');
const REGENERATE = 'npm run swagger:metadata';

/** Newest modification time of the TypeScript sources the metadata is read from. */
function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') && path !== target) {
      newest = Math.max(newest, statSync(path).mtimeMs);
    }
  }
  return newest;
}

/** Writes the metadata for the sources under src/ into `outputDir`/metadata.ts. */
function generate(outputDir) {
  new PluginMetadataGenerator().generate({
    visitors: [
      new ReadonlyVisitor({
        introspectComments: true,
        classValidatorShim: true,
        pathToSource: src,
      }),
    ],
    outputDir,
    filename: 'metadata.ts',
    tsconfigPath: 'tsconfig.build.json',
    printDiagnostics: !process.argv.includes('--check'),
  });
}

// The generator type-checks the project first, and main.ts imports metadata.ts: seed a stub.
if (!existsSync(target)) {
  writeFileSync(target, 'export default async () => { return {}; };\n');
}

if (process.argv.includes('--check')) {
  // Generated elsewhere: the imports it writes are relative to `pathToSource`, not to the output.
  const dir = mkdtempSync(join(tmpdir(), 'swagger-metadata-'));
  try {
    generate(dir);
    if (readFileSync(join(dir, 'metadata.ts'), 'utf8') !== readFileSync(target, 'utf8')) {
      console.error(`src/metadata.ts is stale (a DTO or route changed); run \`${REGENERATE}\``);
      process.exit(1);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else if (process.argv.includes('--if-stale') && statSync(target).mtimeMs >= newestSource(src)) {
  // Up to date: nothing under src/ changed since it was generated.
} else {
  generate(src);
}

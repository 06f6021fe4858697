// Generates src/metadata.ts with the @nestjs/swagger CLI plugin's ReadonlyVisitor, so that code
// compiled without the Nest CLI (ts-jest, `npm run openapi`) documents DTOs and responses exactly
// like `nest build` does. Run before build and test; the file is committed.
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { PluginMetadataGenerator } from '@nestjs/cli/lib/compiler/plugins/plugin-metadata-generator.js';
import { ReadonlyVisitor } from '@nestjs/swagger/plugin';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const src = join(root, 'src');
const target = join(src, 'metadata.ts');

// The generator type-checks the project first, and main.ts imports metadata.ts: seed a stub.
if (!existsSync(target)) {
  writeFileSync(target, 'export default async () => { return {}; };\n');
}

new PluginMetadataGenerator().generate({
  visitors: [
    new ReadonlyVisitor({
      introspectComments: true,
      classValidatorShim: true,
      pathToSource: src,
    }),
  ],
  outputDir: src,
  filename: 'metadata.ts',
  tsconfigPath: 'tsconfig.build.json',
  printDiagnostics: true,
});

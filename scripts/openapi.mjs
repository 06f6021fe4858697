// Writes the OpenAPI document of the compiled app to a file, with no server and no database
// (see generateOpenApiDocument in src/bootstrap.ts). `npm run openapi` builds first, then runs
//   node scripts/openapi.mjs [--dist dist] [--out openapi.json]
import 'reflect-metadata';

import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    dist: { type: 'string', default: 'dist' },
    out: { type: 'string', default: 'openapi.json' },
  },
});
const bootstrap = pathToFileURL(join(resolve(values.dist), 'bootstrap.js')).href;
const { generateOpenApiDocument } = await import(bootstrap);
const document = await generateOpenApiDocument();
writeFileSync(values.out, `${JSON.stringify(document, null, 2)}\n`);
const operations = Object.values(document.paths).flatMap((item) => Object.keys(item)).length;
console.log(`${values.out}: OpenAPI ${document.openapi}, ${operations} operations`);

// Bundles the account page's script (src/account/page/account.ts, with @simplewebauthn/browser)
// into src/account/page/account.js, which the API serves at /account/account.js (git-ignored:
// `npm run build`, scripts/dev.sh and the e2e tests' global setup run this first). `nest build`
// copies it with the page's HTML and CSS into dist/account/page/.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

const page = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'account', 'page');

/** Builds the bundle; returns its path. */
export async function buildAccountPage() {
  const outfile = join(page, 'account.js');
  await build({
    entryPoints: [join(page, 'account.ts')],
    outfile,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome109', 'firefox115', 'safari16'],
    minify: true,
    legalComments: 'eof',
    logLevel: 'warning',
  });
  return outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildAccountPage();
}

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The app compiled to JavaScript, for tests that need a real process (`main.js`) or the
 * scripts that load compiled code. Built once per jest run into a folder inside the project, so
 * that Node finds node_modules and package.json's `"type": "module"`; global teardown removes it.
 * tsc emits what `nest build` emits (the Swagger plugin's output comes from src/metadata.ts),
 * plus the account page's files;
 * `--noCheck` because the test command type-checks once already. Returns the folder.
 */
export function compiledApp(): string {
  const target = process.env.GUARDHOUSE_TEST_BUILD;
  if (!target) throw new Error('GUARDHOUSE_TEST_BUILD is not set: run tests through jest');
  if (existsSync(join(target, 'main.js'))) return target;
  const staging = `${target}.${process.pid}`;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(dirname(staging), { recursive: true });
  execFileSync(
    process.execPath,
    [tsc, '-p', 'tsconfig.build.json', '--outDir', staging, '--noCheck', '--sourceMap', 'false'],
    { cwd: root, stdio: 'inherit' },
  );
  // The account page's files, as `nest build` copies them (its assets; the global setup bundled
  // the script).
  for (const file of ['index.html', 'account.css', 'account.js']) {
    cpSync(join(root, 'src/account/page', file), join(staging, 'account/page', file));
  }
  // Another jest worker may have finished first; either build will do.
  if (existsSync(target)) rmSync(staging, { recursive: true, force: true });
  else renameSync(staging, target);
  return target;
}

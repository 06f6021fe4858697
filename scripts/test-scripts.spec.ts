import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = process.cwd();
const scripts = (
  JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  }
).scripts;

/**
 * The files jest would run for `npm run <script> -- <args>`: the script's jest command (its last
 * step, after building FerretDB and the metadata) with the arguments npm appends, listed only.
 */
async function filesRunBy(script: string, args: string[]): Promise<string[]> {
  const jest = scripts[script].split('&&').at(-1)?.trim() ?? '';
  expect(jest).toContain('jest.js');
  const { stdout } = await run('sh', ['-c', `${jest} "$@" --listTests`, 'sh', ...args], {
    cwd: root,
  });
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('/'))
    .map((line) => line.replace(`${root}/`, ''));
}

describe('npm run test:unit / test:e2e -- <path>', () => {
  it('runs just that e2e file', async () => {
    await expect(filesRunBy('test:e2e', ['test/todos.e2e-spec.ts'])).resolves.toEqual([
      'test/todos.e2e-spec.ts',
    ]);
  }, 30_000);

  it('runs just that unit file', async () => {
    const file = 'src/auth/guards/ownership.guard.spec.ts';
    await expect(filesRunBy('test:unit', [file])).resolves.toEqual([file]);
  }, 30_000);

  it('runs every file of its project without a path', async () => {
    const e2e = await filesRunBy('test:e2e', []);
    expect(e2e.length).toBeGreaterThan(10);
    expect(e2e.every((file) => file.endsWith('.e2e-spec.ts'))).toBe(true);
  }, 30_000);

  it('regenerates stale Swagger metadata first', () => {
    for (const script of ['test:unit', 'test:e2e', 'test:jest']) {
      expect(scripts[script]).toContain('node scripts/swagger-metadata.mjs --if-stale &&');
    }
  });
});

import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const require = createRequire(import.meta.url);
const { resourceFolders } = require('./resource-folders.cjs') as {
  resourceFolders: (srcDir: string) => string[];
};

const run = promisify(execFile);
const root = process.cwd();
const CONFIG = join(root, '.dependency-cruiser.cjs');
const DEPCRUISE = join(root, 'node_modules', '.bin', 'depcruise');

/** A project tree in a temporary folder: path → file text. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'resource-folders-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const APP = {
  'tsconfig.json': JSON.stringify({
    compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true },
  }),
  'src/auth/auth.module.ts': 'export class AuthModule {}\n',
  'src/auth/index.ts': "export { AuthModule } from './auth.module.js';\n",
  'src/common/filters/x.filter.ts': 'export const x = 1;\n',
  'src/health/health.module.ts': 'export class HealthModule {}\n',
  'src/movies/movies.module.ts': 'export class MoviesModule {}\n',
  'src/movies/movies.service.ts': 'export class MoviesService {}\n',
  'src/notes.md': 'not a folder\n',
  'src/drafts/draft.ts': 'export const draft = 1;\n',
  // A resource added after the rules were written: nothing lists it anywhere.
  'src/recipes/recipes.module.ts':
    "import { AuthModule } from '../auth/index.js';\nexport class RecipesModule { auth = AuthModule; }\n",
};

async function depcruise(cwd: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run(DEPCRUISE, ['src', '--config', CONFIG], { cwd });
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

describe('resource folders (the dependency rules’ RESOURCES)', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const project = (files: Record<string, string>) => {
    const dir = tree(files);
    dirs.push(dir);
    return dir;
  };

  it('are the folders with a Nest module, minus the kit, the shared layers and health', () => {
    expect(resourceFolders(join(project(APP), 'src'))).toEqual(['movies', 'recipes']);
  });

  it("are what this project's rules apply to", () => {
    const config = require(CONFIG) as { forbidden: { name: string; from: { path: string } }[] };
    const rule = config.forbidden.find((r) => r.name === 'resources-independent');
    const from = new RegExp(rule?.from.path ?? '$never');
    const folders = resourceFolders(join(root, 'src'));
    expect(folders.length).toBeGreaterThan(0);
    for (const folder of folders) expect(`src/${folder}/x.service.ts`).toMatch(from);
    for (const folder of ['auth', 'common', 'health']) {
      expect(`src/${folder}/x.service.ts`).not.toMatch(from);
    }
  });

  it('put a new folder under the rules: importing another resource fails lint', async () => {
    const clean = await depcruise(project(APP));
    expect(clean).toMatchObject({ code: 0 });
    const tangled = await depcruise(
      project({
        ...APP,
        'src/recipes/recipes.service.ts':
          "import { MoviesService } from '../movies/movies.service.js';\nexport const m = MoviesService;\n",
      }),
    );
    expect(tangled.code).not.toBe(0);
    expect(tangled.output).toMatch(
      /resources-independent: src\/recipes\/recipes\.service\.ts → src\/movies\/movies\.service\.ts/,
    );
  }, 60_000);
});

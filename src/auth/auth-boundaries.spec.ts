import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// The auth kit is embedded in other Nest apps (SPEC §8): nothing it ships may depend on this
// app's resource modules or on the app's own wiring.
const authDir = dirname(fileURLToPath(import.meta.url));
const srcDir = resolve(authDir, '..');
const RESOURCE_FOLDERS = ['movies', 'books', 'todos', 'bucketlists'];
const APP_WIRING = ['app.module.ts', 'bootstrap.ts', 'main.ts'];

/** Every module specifier in a source text: static imports, re-exports, `import()` calls. */
function specifiersOf(source: string): string[] {
  const info = ts.preProcessFile(source, true, true);
  return info.importedFiles.map((file) => file.fileName);
}

/** The `.ts` file a relative specifier points to, or undefined for a package import. */
function resolveSpecifier(fromFile: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const target = resolve(dirname(fromFile), specifier);
  const candidates = [target.replace(/\.js$/, '.ts'), target, join(target, 'index.ts')];
  return candidates.find((file) => existsSync(file) && statSync(file).isFile()) ?? candidates[0];
}

/** Why an import of `target` is not allowed in the kit, or undefined when it is fine. */
function violation(target: string): string | undefined {
  const [top, ...rest] = relative(srcDir, target).split(sep);
  if (top === '..' || top === undefined) return undefined;
  if (RESOURCE_FOLDERS.includes(top)) return `resource module "${top}"`;
  if (rest.length === 0 && APP_WIRING.includes(top)) return `app wiring "${top}"`;
  return undefined;
}

function importViolations(file: string, source: string): string[] {
  return specifiersOf(source).flatMap((specifier) => {
    const target = resolveSpecifier(file, specifier);
    const reason = target && violation(target);
    return reason ? [`${relative(srcDir, file)} imports '${specifier}' (${reason})`] : [];
  });
}

function kitSourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return kitSourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('auth kit boundaries', () => {
  it('finds violations in static imports, re-exports and dynamic imports', () => {
    const file = join(authDir, 'guards', 'example.guard.ts');
    const source = [
      "import { MoviesService } from '../../movies/movies.service.js';",
      "export { Todo } from '../../todos/schemas/todo.schema.js';",
      "const lists = await import('../../bucketlists/bucketlists.module.js');",
      "import '../../books/books.module.js';",
      "import { AppModule } from '../../app.module.js';",
      "import { Role } from '../roles.js';",
      "import { UsersService } from '../../users/users.service.js';",
      "import { Injectable } from '@nestjs/common';",
    ].join('\n');
    expect(importViolations(file, source)).toEqual([
      'auth/guards/example.guard.ts imports \'../../movies/movies.service.js\' (resource module "movies")',
      'auth/guards/example.guard.ts imports \'../../todos/schemas/todo.schema.js\' (resource module "todos")',
      'auth/guards/example.guard.ts imports \'../../bucketlists/bucketlists.module.js\' (resource module "bucketlists")',
      'auth/guards/example.guard.ts imports \'../../books/books.module.js\' (resource module "books")',
      'auth/guards/example.guard.ts imports \'../../app.module.js\' (app wiring "app.module.ts")',
    ]);
  });

  it('no file under src/auth imports a resource module or the app wiring', () => {
    const files = kitSourceFiles(authDir);
    expect(files.map((file) => relative(srcDir, file))).toEqual(
      expect.arrayContaining(['auth/index.ts', 'auth/auth.module.ts']),
    );
    const found = files.flatMap((file) => importViolations(file, readFileSync(file, 'utf8')));
    expect(found).toEqual([]);
  });

  it('nothing reachable from the public API (src/auth/index.ts) does either', () => {
    const seen = new Set<string>();
    const problems: string[] = [];
    const pending = [join(authDir, 'index.ts')];
    for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
      if (seen.has(file)) continue;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      problems.push(...importViolations(file, source));
      for (const specifier of specifiersOf(source)) {
        const target = resolveSpecifier(file, specifier);
        if (target && existsSync(target) && !violation(target)) pending.push(target);
      }
    }
    // The walk really followed the kit (users module included), so an empty result means something.
    expect([...seen].map((file) => relative(srcDir, file))).toEqual(
      expect.arrayContaining([
        'auth/auth.module.ts',
        'auth/guards/ownership.guard.ts',
        join('users', 'users.module.ts'),
      ]),
    );
    expect(problems).toEqual([]);
  });
});

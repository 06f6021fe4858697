import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

/** `scripts/start.sh --dry-run` with exactly these settings (no `.env` of the checkout). */
async function dryRun(env: Record<string, string>): Promise<string> {
  const { stderr } = await run('bash', ['scripts/start.sh', '--dry-run'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ENV_FILE: '/dev/null', ...env },
  });
  return stderr;
}

const WARNING =
  /^warning: NODE_ENV=production without MONGODB_URI: .*development and small data only/m;

describe('scripts/start.sh: which database, and the embedded one in production', () => {
  it('warns once when production would run on the embedded FerretDB', async () => {
    const out = await dryRun({ NODE_ENV: 'production' });
    expect(out.match(new RegExp(WARNING.source, 'gm'))).toHaveLength(1);
    expect(out).toContain('database: embedded FerretDB');
  });

  it('does not warn in development, nor in production on MONGODB_URI', async () => {
    const development = await dryRun({ NODE_ENV: 'development' });
    expect(development).not.toMatch(WARNING);
    expect(development).toContain('database: embedded FerretDB');
    const production = await dryRun({
      NODE_ENV: 'production',
      MONGODB_URI: 'mongodb://db.example.com/guardhouse',
    });
    expect(production).not.toMatch(WARNING);
    expect(production).toContain('database: MONGODB_URI');
  });
});

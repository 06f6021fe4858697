import { readFileSync } from 'node:fs';

import { getMetadataStorage } from 'class-validator';

import { Env } from './env.js';

/** The settings `.env.example` shows (`NAME=value`, set or commented out as `# NAME=`). */
function documented(): Set<string> {
  const text = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
  return new Set([...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]));
}

/**
 * Every setting the API reads from the environment: each Env property that is validated or has a
 * default (the flags the validation sets itself, like JWT_SECRET_GENERATED, have neither).
 */
function validated(): string[] {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(Env, '', true, false);
  const withDefaults = Object.entries(new Env())
    .filter(([, value]) => value !== undefined)
    .map(([name]) => name);
  return [...new Set([...metadata.map((entry) => entry.propertyName), ...withDefaults])].sort();
}

describe('.env.example', () => {
  it('documents every setting the API validates', () => {
    const shown = documented();
    expect(validated().filter((name) => !shown.has(name))).toEqual([]);
  });

  it('names no setting the API does not read', () => {
    const known = new Set(validated());
    // Read by the scripts, not by the API (scripts/start.sh, dev.sh, ferretdb.sh).
    const scriptsOnly = new Set(['FERRETDB_PORT', 'FERRETDB_DATA', 'MONGODB_URI_TEST']);
    expect([...documented()].filter((name) => !known.has(name) && !scriptsOnly.has(name))).toEqual(
      [],
    );
  });
});

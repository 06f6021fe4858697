// Jest 30 in native ESM (run through `node --experimental-vm-modules`): ts-jest transpiles our
// TypeScript, @swc/jest turns the few ESM-only packages that CommonJS Fastify plugins `require`
// (cookie 2, content-disposition 3) into CommonJS. Type errors are caught by `npm run typecheck`.
const esmOnlyDependencies = ['cookie', 'content-disposition'];

const tsJest = ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: false }];

const shared = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': tsJest,
    [`node_modules/(${esmOnlyDependencies.join('|')})/.+\\.js$`]: ['@swc/jest'],
  },
  transformIgnorePatterns: [`node_modules/(?!(${esmOnlyDependencies.join('|')})/)`],
  testEnvironment: 'node',
};

/** @type {import('jest').Config} */
export default {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/src/**/*.spec.ts',
        '<rootDir>/test/support/**/*.spec.ts',
        '<rootDir>/scripts/**/*.spec.ts',
      ],
    },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      // Per project: FerretDB starts only when an e2e test runs (`npm run test:unit` needs none).
      globalSetup: '<rootDir>/test/support/global-setup.mjs',
      globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
      setupFiles: ['<rootDir>/test/support/setup-env.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/support/contract-setup.ts'],
    },
  ],
  // The index-coverage check reads what every other e2e file recorded: it runs last.
  testSequencer: '<rootDir>/test/support/sequencer.mjs',
  testTimeout: 30000,
};

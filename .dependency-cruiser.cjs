// Architecture rules `npm run lint` enforces (dependency-cruiser). The graph in
// docs/architecture.md is drawn from the same analysis: `npm run docs:graph`.
const { resolve } = require('node:path');

const { resourceFolders } = require('./scripts/resource-folders.cjs');

// The resource modules, read from the tree being checked (./src, like `depcruise src`) when this
// config loads: a new resource folder is under the rules below without an edit here.
const RESOURCES = `(${resourceFolders(resolve('src')).join('|')})`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'No import cycle anywhere in src/, so no cycle between its top-level folders either.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-folder-cycle',
      comment:
        'The shared folders sit below the features: common, config, database and logging never ' +
        'import a feature module, the app wiring, or each other upwards.',
      severity: 'error',
      from: { path: '^src/(common|config|database|logging)/' },
      to: {
        path: `^src/(${RESOURCES.slice(1, -1)}|health)/|^src/(app\\.module|bootstrap|main)\\.ts$`,
      },
    },
    {
      name: 'config-is-a-leaf',
      comment:
        'Settings are read by everything; they depend on nothing of the app but the kit entry.',
      severity: 'error',
      from: { path: '^src/config/' },
      to: { path: '^src/(common|database|logging)/' },
    },
    {
      name: 'common-above-database',
      comment: 'common/ is below database/: the filter maps duplicate keys through the kit entry.',
      severity: 'error',
      from: { path: '^src/common/' },
      to: { path: '^src/database/' },
    },
    {
      name: 'resources-independent',
      comment: 'A resource module never imports another one: each can be removed on its own.',
      severity: 'error',
      from: { path: `^src/${RESOURCES}/` },
      to: { path: `^src/${RESOURCES}/`, pathNot: '^src/$1/' },
    },
    {
      name: 'kit-imports-nothing-of-the-app',
      comment: 'The auth kit (src/auth) ships on its own: it imports nothing else from src/.',
      severity: 'error',
      from: { path: '^src/auth/' },
      to: { path: '^src/', pathNot: '^src/auth/' },
    },
    {
      name: 'kit-only-through-its-entry',
      comment: 'The app uses the kit only through src/auth/index.ts, never a deep path.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/auth/' },
      to: { path: '^src/auth/', pathNot: '^src/auth/index\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/metadata\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};

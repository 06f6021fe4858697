// Which top-level folders of src/ are resource modules, for the dependency rules
// (.dependency-cruiser.cjs): every folder holding a `*.module.ts`, except the kit, the shared
// layers and health. A new folder therefore counts as a resource unless it is added here: the
// strict default, since a resource may import no other resource and no shared layer may import it.
const fs = require('node:fs');
const path = require('node:path');

/** Folders with a Nest module that are not resources. */
const NOT_RESOURCES = ['auth', 'common', 'config', 'database', 'logging', 'health'];

/** The resource folders under `srcDir`, sorted. */
function resourceFolders(srcDir) {
  return fs
    .readdirSync(srcDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !NOT_RESOURCES.includes(entry.name))
    .filter((entry) =>
      fs.readdirSync(path.join(srcDir, entry.name)).some((file) => file.endsWith('.module.ts')),
    )
    .map((entry) => entry.name)
    .sort();
}

module.exports = { NOT_RESOURCES, resourceFolders };

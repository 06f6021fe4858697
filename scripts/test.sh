#!/usr/bin/env bash
# One command from a fresh clone to a full test run: installs npm packages, builds the embedded
# FerretDB once, installs Debian's chromium (browser test) and haproxy (multi-instance test) when missing, regenerates the Swagger plugin metadata, type-checks, then runs every jest test
# (unit + e2e; jest's global setup starts a private FerretDB). Ends with "N passed, N failed".
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/install.sh
bash scripts/ferretdb.sh build
bash scripts/ensure-chromium.sh
bash scripts/ensure-haproxy.sh
node scripts/swagger-metadata.mjs
npx tsc --noEmit -p tsconfig.json
mkdir -p reports
status=0
node --experimental-vm-modules node_modules/jest/bin/jest.js --runInBand \
  --json --outputFile=reports/jest.json "$@" || status=$?
node -e '
const r = JSON.parse(require("fs").readFileSync("reports/jest.json", "utf8"));
console.log(`${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed`);
'
exit $status

#!/usr/bin/env bash
# One command from a fresh clone to a full test run: installs npm packages, builds the embedded
# FerretDB once, installs Debian's chromium (browser test) and haproxy (multi-instance test) when missing, regenerates the Swagger plugin metadata, type-checks, then runs every jest test
# (unit + e2e; jest's global setup starts a private FerretDB). Ends with "N passed, N failed".
#
# TEST_NODE=/path/to/node runs jest (and every process the tests start) on that Node binary
# instead of the machine's: `.ci/run` uses it for the second run on the current LTS
# (scripts/lts-node.sh). Jest's JSON report goes to reports/jest.json, or reports/jest-node<major>.json then.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/install.sh
bash scripts/ferretdb.sh build
bash scripts/ensure-chromium.sh
bash scripts/ensure-haproxy.sh
node scripts/swagger-metadata.mjs
npx tsc --noEmit -p tsconfig.json
npx tsc --noEmit -p src/account/page/tsconfig.json
mkdir -p reports
node_bin=${TEST_NODE:-node}
report=reports/jest.json
if [ -n "${TEST_NODE:-}" ]; then
  report="reports/jest-node$("$node_bin" -p 'process.versions.node.split(".")[0]').json"
fi
echo "Running jest on Node $("$node_bin" --version)" >&2
status=0
# --forceExit: a test that fails before it can close its app (a beforeAll that throws) must not
# keep CI waiting on the handles it leaves open; the failure is reported all the same.
# --max-old-space-size: one jest process runs every file (--runInBand) and its heap grows file by
# file (jest on VM modules leaves memory behind): it passed V8's default limit (about 4 GB here)
# near the end of a Node 20 run. --logHeapUsage prints the heap after each file.
"$node_bin" --max-old-space-size=12288 --experimental-vm-modules node_modules/jest/bin/jest.js \
  --runInBand --forceExit --logHeapUsage --json --outputFile="$report" "$@" || status=$?
node scripts/test-summary.mjs "$report"
exit $status

#!/usr/bin/env bash
# One-time setup of a fresh clone (`npm run setup`): npm packages, the embedded FerretDB binary,
# Debian's Chromium for the Swagger UI browser test and HAProxy for the multi-instance test.
# Each step skips what is already there, so running it again is cheap.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/install.sh
bash scripts/ferretdb.sh build
bash scripts/ensure-chromium.sh
bash scripts/ensure-haproxy.sh
echo "Setup done: 'npm run start:dev' runs the API with reload, 'npm test' runs the tests." >&2

#!/usr/bin/env bash
# Development server (`npm run start:dev`): the embedded FerretDB as scripts/start.sh starts it
# (unless MONGODB_URI points at your own MongoDB), then `nest start --watch`, which recompiles and
# restarts the API on every change. FerretDB is stopped when this script exits (Ctrl-C, SIGTERM).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
[ -f .env ] && set -a && . ./.env && set +a
if [ -z "${MONGODB_URI:-}" ]; then
  export FERRETDB_PORT=${FERRETDB_PORT:-27017}
  bash scripts/ferretdb.sh start
  trap 'bash scripts/ferretdb.sh stop' EXIT
  # Without these traps bash dies of the signal and skips the EXIT trap; with them it waits for
  # nest (which got the same signal) and then exits through the EXIT trap.
  trap 'exit 130' INT
  trap 'exit 143' TERM
  export MONGODB_URI="mongodb://127.0.0.1:$FERRETDB_PORT/guardhouse"
fi
# The Swagger plugin's output is committed in src/metadata.ts; refresh it once for this session.
node scripts/swagger-metadata.mjs
# The account page's script bundle (/account), rebuilt once per session.
node scripts/account-page.mjs
echo "API on http://localhost:${PORT:-3000}/api — Swagger UI at http://localhost:${PORT:-3000}/api/docs" >&2
npx --no nest start --watch

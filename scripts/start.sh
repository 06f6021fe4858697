#!/usr/bin/env bash
# One command from a fresh clone to a running API: installs npm packages, builds and starts the
# embedded FerretDB (unless MONGODB_URI points at your own MongoDB), builds and runs the API.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/install.sh
[ -f .env ] && set -a && . ./.env && set +a
if [ -z "${MONGODB_URI:-}" ]; then
  export FERRETDB_PORT=${FERRETDB_PORT:-27017}
  bash scripts/ferretdb.sh start
  trap 'bash scripts/ferretdb.sh stop' EXIT
  export MONGODB_URI="mongodb://127.0.0.1:$FERRETDB_PORT/guardhouse"
fi
npm run build --silent
echo "API on http://localhost:${PORT:-3000}/api — Swagger UI at http://localhost:${PORT:-3000}/api/docs" >&2
node dist/main.js

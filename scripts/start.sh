#!/usr/bin/env bash
# One command from a fresh clone to a running API: installs npm packages, builds and starts the
# embedded FerretDB (unless MONGODB_URI points at your own MongoDB), builds and runs the API.
#   bash scripts/start.sh --dry-run   say which database it would use (and any warning), start nothing
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
dry_run=false
[ "${1:-}" = "--dry-run" ] && dry_run=true
$dry_run || bash scripts/install.sh
env_file=${ENV_FILE:-.env}
[ -f "$env_file" ] && set -a && . "$env_file" && set +a
if [ -z "${MONGODB_URI:-}" ]; then
  if [ "${NODE_ENV:-}" = "production" ]; then
    echo "warning: NODE_ENV=production without MONGODB_URI: starting the embedded FerretDB, which is for development and small data only (it sorts every list page and count in its own memory, about 1 s per 10,000 documents). Set MONGODB_URI to your MongoDB deployment; see docs/operations.md#the-embedded-database." >&2
  fi
  export FERRETDB_PORT=${FERRETDB_PORT:-27017}
  export MONGODB_URI="mongodb://127.0.0.1:$FERRETDB_PORT/guardhouse"
  if $dry_run; then
    echo "database: embedded FerretDB on 127.0.0.1:$FERRETDB_PORT" >&2
    exit 0
  fi
  bash scripts/ferretdb.sh start
  trap 'bash scripts/ferretdb.sh stop' EXIT
elif $dry_run; then
  echo "database: MONGODB_URI" >&2
  exit 0
fi
npm run build --silent
echo "API on http://localhost:${PORT:-3000}/api — Swagger UI at http://localhost:${PORT:-3000}/api/docs" >&2
npm start --silent

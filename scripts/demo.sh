#!/usr/bin/env bash
# Quick start 1: installs what is missing, builds, then runs
# examples/quickstart and `distkit demo` against $REDIS_URL or a private
# redis-server.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
build_dir=${BUILD_DIR:-build}
scripts/with-redis.sh bash -c '
  set -e
  "$1/examples/quickstart"
  if [[ -x "$1/tools/distkit/distkit" ]]; then "$1/tools/distkit/distkit" demo --url "$REDIS_URL"; fi
' demo "$build_dir"

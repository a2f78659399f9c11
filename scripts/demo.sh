#!/usr/bin/env bash
# Quick start 1: installs what is missing, builds the example and the tool,
# then runs examples/quickstart and `distkit demo` against $REDIS_URL or a
# private redis-server.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh --target quickstart distkit_cli
build_dir=${BUILD_DIR:-build}
scripts/with-redis.sh bash -c '
  set -e
  "$1/examples/quickstart"
  "$1/tools/distkit/distkit" demo --url "$REDIS_URL"
' demo "$build_dir"

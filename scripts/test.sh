#!/usr/bin/env bash
# Quick start 2: installs what is missing, builds, and runs the whole test
# suite through CTest against $REDIS_URL or a private redis-server.
# Arguments go to ctest (e.g. -R strict). BUILD_DIR and CMAKE_ARGS as for
# scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
scripts/with-redis.sh ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j2 "$@"

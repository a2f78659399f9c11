#!/usr/bin/env bash
# Installs the build tree into a temporary prefix and builds an outside
# project against it with find_package(distkit), as a user would.
#   check_package.sh <build dir>
set -euo pipefail
build_dir=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$(dirname "$0")/consumer" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" -j2 >/dev/null
"$work/build/consumer" ${REDIS_URL:+"$REDIS_URL"}

#!/usr/bin/env bash
# Configures and builds distkit in ${BUILD_DIR:-build}. Extra CMake options
# come from CMAKE_ARGS, e.g. CMAKE_ARGS="-DDISTKIT_SANITIZE=address,undefined".
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
# shellcheck disable=SC2086 # CMAKE_ARGS is a list of options
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${CMAKE_ARGS:-} >/dev/null
cmake --build "$build_dir" -j2 "$@"

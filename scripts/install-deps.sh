#!/usr/bin/env bash
# Installs the Debian 12 packages distkit needs to build, test, benchmark and
# fuzz (clang and its libFuzzer runtime: fuzz/run.sh),
# skipping those already present. Safe to run repeatedly.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libboost1.81-dev libboost-url1.81-dev libhiredis-dev libssl-dev openssl
  googletest libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
  redis-server redis-tools gnuplot-nox python3
  clang libclang-rt-14-dev
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=()
[[ $(id -u) -ne 0 ]] && sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

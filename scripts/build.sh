#!/usr/bin/env bash
# Configures and builds stowage into build/ (or $1) with CMake + Ninja.
# Extra arguments go to CMake (e.g. -DSTOWAGE_SANITIZE=ON).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build}"
shift || true
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"

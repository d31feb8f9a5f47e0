#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite: the layer
# check, the format check, then every test under CTest (GoogleTest units,
# Orbax-fixture tests, zarr-python interop and CLI scripts) in a build with
# AddressSanitizer + UndefinedBehaviorSanitizer (optimised, -O2 -g), then the
# concurrent paths (async and multi-process saves) under ThreadSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# s3rver (npm), the loopback S3 server of the S3 store's tests; with the variable set, those
# tests fail instead of skipping when it cannot start.
bash scripts/s3rver.sh install
export STOWAGE_REQUIRE_S3RVER=1
/usr/bin/python3 tools/check_layers.py
bash tools/check_format.sh

# clang, so that the same instrumented build also runs each libFuzzer target
# (fuzz/) for 30 s over its seed corpus as the tests fuzz.*.
bash scripts/build.sh build-asan -DCMAKE_CXX_COMPILER=clang++ -DSTOWAGE_SANITIZE=ON -DSTOWAGE_FUZZ=ON
(cd build-asan &&
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure -j "$(nproc)" --timeout 900)

bash scripts/tsan.sh build-tsan

#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite: the
# layer check, the format check, every test under CTest, then the same tests
# again under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
/usr/bin/python3 tools/check_layers.py
bash tools/check_format.sh

bash scripts/build.sh build
(cd build && ctest --output-on-failure -j "$(nproc)" --timeout 900)

bash scripts/build.sh build-asan -DSTOWAGE_SANITIZE=ON -DSTOWAGE_BUILD_BENCHMARKS=OFF
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j "$(nproc)" --timeout 900)

#!/usr/bin/env bash
# Builds the concurrent code with ThreadSanitizer into build-tsan/ (or $1) and
# runs the tests that exercise threads: the pool and parallel-for, concurrent
# stores and codecs, asynchronous saves, parallel restores, multi-process saves
# (threads with ThreadCoordinators). Called by
# scripts/test.sh; needs what scripts/install-deps.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build-tsan}"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTOWAGE_TSAN=ON \
  -DSTOWAGE_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target stowage_base_tests stowage_codec_tests \
  stowage_kvstore_tests stowage_array_tests stowage_checkpoint_tests stowage_integration_tests

export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
run() {  # binary, gtest filter
  echo "== TSan: $1 --gtest_filter=$2"
  "$build_dir/$1" --gtest_filter="$2" --gtest_brief=1
}
run stowage_base_tests 'ThreadPoolTest.*:FutureTest.*'
run stowage_codec_tests '*ConcurrentCallsAgree/idzstd:*ConcurrentCallsAgree/idzlib:*ConcurrentCallsAgree/idgzip:*ConcurrentCallsAgree/idlz4:*ConcurrentCallsAgree/idblosc'
run stowage_kvstore_tests '*Concurrent*:FaultInjector*:WithFaults*'
run stowage_array_tests 'ParallelForTest.*:RegionReadTest.*Parallel*:*RegionRoundTrip*'
run stowage_checkpoint_tests '*Async*:*InParallel*:*SaveInFlight*'
run tests/stowage_integration_tests '*MultiProcess*'
echo "TSan: no data race reported"

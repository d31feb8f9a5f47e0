#!/usr/bin/env bash
# A fuzzing campaign: builds every libFuzzer target (clang, ASan + UBSan,
# build-fuzz/) and runs them one at a time, each for SECONDS (default 600) or
# RUNS executions (default unlimited), whichever comes first:
#   scripts/fuzz.sh [SECONDS [RUNS]]       e.g. scripts/fuzz.sh 600 1000000
#   FUZZERS="npy zarray" scripts/fuzz.sh   only these targets
#   scripts/fuzz.sh --seeds                rewrite fuzz/corpus/ from each target's Seeds()
# Inputs found are kept in build-fuzz/corpus/<name> (fuzz/corpus/ is only read);
# crashes land in build-fuzz/artifacts/<name>/. Prints one line per target:
# executions, executions per second, coverage (cov: edges, ft: features).
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-fuzz
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DSTOWAGE_SANITIZE=ON -DSTOWAGE_FUZZ=ON >/dev/null
names=${FUZZERS:-$(ls fuzz/*_fuzzer.cc | sed 's|fuzz/||; s|_fuzzer.cc||')}
targets=$(for n in $names; do echo "${n}_fuzzer"; done)
nice -n 10 cmake --build "$build" -j 2 --target $targets

if [[ "${1:-}" == "--seeds" ]]; then
  for name in $names; do
    rm -rf "fuzz/corpus/$name.new"
    STOWAGE_FUZZ_WRITE_SEEDS="fuzz/corpus/$name.new" "$build/${name}_fuzzer"
    # Keep inputs added by hand (crash-*, regression-*) beside the new seeds.
    find "fuzz/corpus/$name" -maxdepth 1 \( -name 'crash-*' -o -name 'regression-*' \) \
      -exec cp {} "fuzz/corpus/$name.new/" \; 2>/dev/null || true
    rm -rf "fuzz/corpus/$name" && mv "fuzz/corpus/$name.new" "fuzz/corpus/$name"
    echo "fuzz/corpus/$name: $(ls "fuzz/corpus/$name" | wc -l) seeds"
  done
  exit 0
fi

seconds=${1:-600}
runs=${2:--1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for name in $names; do
  mkdir -p "$build/corpus/$name" "$build/artifacts/$name"
  dict=()
  [[ -f "fuzz/dict/$name.dict" ]] && dict=(-dict="fuzz/dict/$name.dict")
  log="$build/artifacts/$name/fuzz.log"
  if ! nice -n 10 "$build/${name}_fuzzer" -max_total_time="$seconds" -runs="$runs" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/artifacts/$name/" \
      "${dict[@]}" "$build/corpus/$name" "fuzz/corpus/$name" >"$log" 2>&1; then
    echo "$name: FAILED, see $log and $build/artifacts/$name/"
    status=1
    continue
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$')
  cov=$(grep -E '^#[0-9]+' "$log" | grep -o 'cov: [0-9]* ft: [0-9]*' | tail -1)
  echo "$name: $execs executions, $speed/s, $cov"
done
exit $status

#!/usr/bin/env bash
# Multi-process save/restore throughput: the same 1 GiB float64 array saved
# and restored by 1 rank and by 4 ranks (split 4 ways along rows), through
# examples/mpi_checkpoint, median of N runs each, in one run of this script.
# Prints GiB/s and the 4-rank / 1-rank ratio (issue 5 target: >= 0.8).
#
#   bash bench/mpi_scaling.sh [BUILD_DIR] [RUNS] [--fsync]
set -euo pipefail
build="${1:-build}"
runs="${2:-3}"
fsync_flag="--no-fsync"
[[ "${3:-}" == "--fsync" ]] && fsync_flag=""
example="$build/mpi_checkpoint"
work="$(mktemp -d "${TMPDIR:-/tmp}/stowage-mpi-bench.XXXX")"
trap 'rm -rf "$work"' EXIT
export OMPI_MCA_btl_vader_single_copy_mechanism=none
shape=16384,8192  # 2^27 float64 = 1 GiB

# Seconds of one run: the time rank 0 prints ("ok in S s").
one_run() {
  local ranks="$1" command="$2"
  mpirun --allow-run-as-root --oversubscribe -np "$ranks" "$example" "$command" "$work/ckpt-$ranks" \
    --shape "$shape" --split 0 $fsync_flag | sed -n 's/.* ok in \([0-9.]*\) s.*/\1/p'
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# 1-rank and 4-rank runs alternate, each after `sync`, so that the disk's
# write-back of one run does not land on the next and drift hits both alike.
declare -A samples seconds
for _ in $(seq "$runs"); do
  for command in save restore; do
    for ranks in 1 4; do
      sync
      samples[$command$ranks]+="$(one_run "$ranks" "$command") "
    done
  done
done
for key in "${!samples[@]}"; do
  seconds[$key]=$(tr ' ' '\n' <<<"${samples[$key]}" | grep . | median)
done
printf '{"bytes": %d, "runs": %d, "fsync": %s' $((1 << 30)) "$runs" \
  "$([[ -z $fsync_flag ]] && echo true || echo false)"
div() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
for key in save1 save4 restore1 restore4; do
  printf ', "%s_gib_per_s": %s' "$key" "$(div 1 "${seconds[$key]}")"
done
printf ', "save_ratio_4_over_1": %s, "restore_ratio_4_over_1": %s}\n' \
  "$(div "${seconds[save1]}" "${seconds[save4]}")" \
  "$(div "${seconds[restore1]}" "${seconds[restore4]}")"

#!/usr/bin/env bash
# 1 GiB (64 objects of 16 MiB) written to and read from s3rver on loopback, through the S3
# store (s3_benchmark: 8 threads, 8 requests in flight), as a checkpoint of one 1 GiB array on
# an s3:// path (OCDBT and plain zarr, 8 workers), and through the curl command-line tool
# (--parallel, 8 transfers at once, SigV4-signed with UNSIGNED-PAYLOAD); prints MiB/s of each
# and the store/curl ratio (issue 9 asks for >= 0.5). Both talk to the same server instance,
# whose data lives in /dev/shm.
#
#   bench/s3_vs_curl.sh [BUILD_DIR]      default build-bench; builds s3_benchmark there if needed
#
# Environment: S3_BENCH_OBJECTS (64), S3_BENCH_OBJECT_MIB (16), S3_BENCH_THREADS (8),
# RUNS (3, runs of each curl transfer; the store's benchmark does 3 iterations).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build-bench}"
objects="${S3_BENCH_OBJECTS:-64}"
mib="${S3_BENCH_OBJECT_MIB:-16}"
threads="${S3_BENCH_THREADS:-8}"
runs="${RUNS:-3}"
export S3_BENCH_OBJECTS="$objects" S3_BENCH_OBJECT_MIB="$mib" S3_BENCH_THREADS="$threads"

bash scripts/s3rver.sh install
if [[ ! -x "$build/s3_benchmark" ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  nice -n 19 cmake --build "$build" --target s3_benchmark
fi

work="$(mktemp -d "$( [[ -d /dev/shm ]] && echo /dev/shm || echo /tmp )/s3-vs-curl.XXXXXX")"
bash scripts/s3rver.sh run "$work/data" bench >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  grep -q "listening on" "$work/server.log" && break
  sleep 0.1
done
port="$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/server.log" | grep -o '[0-9]*$')"
endpoint="http://127.0.0.1:$port"
echo "s3rver at $endpoint; $objects objects of $mib MiB, $threads in flight"

head -c "$((mib << 20))" /dev/urandom >"$work/object"
for i in $(seq 0 $((objects - 1))); do
  printf 'upload-file = "%s"\nurl = "%s/bench/curl/obj/%d"\noutput = "/dev/null"\n' \
    "$work/object" "$endpoint" "$i" >>"$work/put.cfg"
  printf 'url = "%s/bench/curl/obj/%d"\noutput = "/dev/null"\n' "$endpoint" "$i" >>"$work/get.cfg"
done
curl_args=(--silent --show-error --no-progress-meter --fail --parallel --parallel-max "$threads"
  --aws-sigv4 "aws:amz:us-east-1:s3" --user S3RVER:S3RVER
  -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -H "Expect:")

# Mean MiB/s of `runs` runs of curl with config $1.
curl_mibps() {
  local total=0 start end
  for _ in $(seq "$runs"); do
    start=$(date +%s.%N)
    nice -n 19 curl "${curl_args[@]}" -K "$1"
    end=$(date +%s.%N)
    total=$(echo "$total + $end - $start" | bc -l)
  done
  echo "$objects * $mib * $runs / $total" | bc -l
}

curl_put=$(curl_mibps "$work/put.cfg")
curl_get=$(curl_mibps "$work/get.cfg")
S3_BENCH_ENDPOINT="$endpoint" S3_BENCH_BUCKET=bench nice -n 19 "$build/s3_benchmark" \
  --benchmark_format=json --benchmark_out="$work/store.json" >/dev/null
python3 - "$work/store.json" "$curl_put" "$curl_get" <<'PY'
import json, sys
runs = {b["name"].split("/iterations")[0]: b["bytes_per_second"] / 2**20
        for b in json.load(open(sys.argv[1]))["benchmarks"]}
curl_put, curl_get = float(sys.argv[2]), float(sys.argv[3])
rows = [("store write (signed)", runs["s3/write/signed"], curl_put),
        ("store write (unsigned)", runs["s3/write/unsigned"], curl_put),
        ("store read", runs["s3/read"], curl_get),
        ("checkpoint save, OCDBT", runs["s3/checkpoint/save/ocdbt"], curl_put),
        ("checkpoint restore, OCDBT", runs["s3/checkpoint/restore/ocdbt"], curl_get),
        ("checkpoint save, zarr", runs["s3/checkpoint/save/zarr"], curl_put),
        ("checkpoint restore, zarr", runs["s3/checkpoint/restore/zarr"], curl_get)]
print(f"{'':27} {'stowage MiB/s':>13} {'curl MiB/s':>11} {'ratio':>6}")
for name, store, curl in rows:
    print(f"{name:27} {store:13.0f} {curl:11.0f} {store / curl:6.2f}")
PY

#!/usr/bin/env bash
# s3rver (npm), the S3-compatible server the S3 store's tests (src/kvstore/s3_*_test.cc) and
# bench/s3_vs_curl.sh run on loopback. Needs node and npm (scripts/install-deps.sh).
#
#   scripts/s3rver.sh install              installs s3rver 3 into build-deps/s3rver unless there
#   scripts/s3rver.sh run DIR [BUCKET]     serves DIR on 127.0.0.1, on a free port, creating
#                                          BUCKET; prints "S3rver listening on 127.0.0.1:PORT",
#                                          then serves until killed (the process is node itself)
#
# s3rver accepts the credentials S3RVER / S3RVER; it checks that
# requests are well-formed SigV4 but not the signature itself.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
prefix="${STOWAGE_S3RVER_PREFIX:-$root/build-deps/s3rver}"
server="$prefix/node_modules/s3rver/bin/s3rver.js"

case "${1:-}" in
  install)
    if [[ ! -f "$server" ]]; then
      mkdir -p "$prefix"
      npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error s3rver@3 >&2
    fi
    ;;
  run)
    dir="${2:?usage: s3rver.sh run DIR [BUCKET]}"
    [[ -f "$server" ]] || { echo "s3rver.sh: s3rver not installed (run: $0 install)" >&2; exit 2; }
    mkdir -p "$dir"
    # --service-endpoint localhost: http://BUCKET.s3.localhost:PORT reaches BUCKET by virtual-host
    # addressing (curl resolves *.localhost to loopback); 127.0.0.1 stays path-style.
    args=(-d "$dir" -a 127.0.0.1 -p 0 --silent --service-endpoint localhost)
    [[ -n "${3:-}" ]] && args+=(--configure-bucket "$3")
    # s3rver's ListObjectsV2 continuation tokens use DES, which OpenSSL 3 (node >= 17) only
    # offers in its legacy provider.
    exec node --openssl-legacy-provider "$server" "${args[@]}"
    ;;
  *)
    echo "usage: $0 install | run DIR [BUCKET]" >&2
    exit 2
    ;;
esac

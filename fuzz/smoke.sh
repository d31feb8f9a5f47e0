#!/usr/bin/env bash
# Runs a fuzzer over a scratch copy of its committed corpus, so that the
# inputs it finds never land in the repository:
#   smoke.sh FUZZER CORPUS_DIR [libFuzzer flags...]
# A crash leaves its input as crash-* in the working directory.
set -euo pipefail
fuzzer="$1"
corpus="$2"
shift 2
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cp -r "$corpus"/. "$scratch"/
"$fuzzer" "$@" "$scratch"

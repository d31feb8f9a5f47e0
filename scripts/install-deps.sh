#!/usr/bin/env bash
# Installs the Debian packages stowage needs to build, test and benchmark,
# skipping what is already there. Run as root on Debian 12 or later.
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ clang libclang-rt-14-dev pkg-config
  libgtest-dev libgmock-dev libbenchmark-dev
  libzstd-dev libblosc-dev zlib1g-dev liblz4-dev libisal-dev
  nlohmann-json3-dev libcli11-dev libzip-dev libmsgpack-cxx-dev
  libopenmpi-dev openmpi-bin
  python3 python3-numpy python3-zarr python3-numcodecs
  clang-format
  libcurl4-openssl-dev libssl-dev curl  # the S3 kvstore driver (issue 9); curl for bench/s3_vs_curl.sh
)
# node + npm run s3rver, the loopback S3 server of the S3 tests (scripts/s3rver.sh); an
# existing node (e.g. nodesource's, which bundles npm) is fine.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

#!/usr/bin/env bash
# Fails when a C++ file differs from what clang-format (.clang-format) makes of it.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
while IFS= read -r file; do
  if ! clang-format --style=file "$file" | cmp -s - "$file"; then
    echo "check_format: $file is not clang-formatted (run clang-format -i $file)" >&2
    status=1
  fi
done < <(git ls-files '*.cc' '*.h' 2>/dev/null || find include src tests bench examples -name '*.cc' -o -name '*.h')
exit $status

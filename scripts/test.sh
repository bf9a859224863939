#!/usr/bin/env bash
# Every test lane: install, build (plain and ASan/UBSan), run unit and host lanes in both.
# Needs root for the host lane (real BPF on this kernel).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
scripts/build.sh build-asan -DVIGIL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
echo "== tests (plain build)"
ctest --test-dir build --output-on-failure
echo "== tests (ASan/UBSan build)"
ctest --test-dir build-asan --output-on-failure

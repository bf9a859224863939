#!/usr/bin/env bash
# Every test lane: install, build (plain and ASan/UBSan), run unit and host lanes in both.
# Needs root for the host lane (real BPF on this kernel).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
scripts/build.sh build-asan -DVIGIL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
# the Fluent Bit lane's Forward server (npm, from its package-lock.json): installed here, once,
# so a slow registry does not eat the first test's timeout
python3 -c 'import sys; sys.path.insert(0, "tests/plugins/fluentbit"); import flbtest; flbtest.ensure_server()'
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
echo "== tests (plain build)"
ctest --test-dir build --output-on-failure
echo "== tests (ASan/UBSan build)"
ctest --test-dir build-asan --output-on-failure

#!/usr/bin/env bash
# Every test lane: install, build (plain and ASan/UBSan), run unit and host lanes in both.
# Needs root for the host lane (real BPF on this kernel).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
# the ASan tree copies the plain tree's BPF objects: they are the same bytes, and compiling
# them again is minutes of CPU (cmake/BpfObject.cmake, VIGIL_BPF_PREBUILT)
scripts/build.sh build-asan -DVIGIL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DVIGIL_BPF_PREBUILT="$PWD/build/bpf-gen"
# the Fluent Bit lane's Forward server (npm, from its package-lock.json): installed here, once,
# so a slow registry does not eat the first test's timeout
python3 -c 'import sys; sys.path.insert(0, "tests/plugins/fluentbit"); import flbtest; flbtest.ensure_server()'
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
echo "== tests (plain build)"
# The vm lane boots Debian's stock kernel under emulation: one CPU-bound process for minutes. It
# runs beside the lanes that only compute (unit, fuzz, valgrind, cross build, chart), which
# use the other core, and never beside the host, plugin and bench lanes, whose tests time the
# machine and count what runs on it.
cpu_only='^(unit|fuzz|valgrind|build|kubernetes)$'
ctest --test-dir build -L '^vm$' --output-on-failure >build/vm-lane.log 2>&1 &
vm_lane=$!
plain_failed=0
ctest --test-dir build -L "$cpu_only" --output-on-failure || plain_failed=1
wait "$vm_lane" || plain_failed=1
echo "== tests (plain build, vm lane, run beside the lines above)"
cat build/vm-lane.log
ctest --test-dir build -LE "$cpu_only|^vm$" --output-on-failure || plain_failed=1
[ "$plain_failed" = 0 ] || { echo "plain build: tests failed (see above); the ASan/UBSan lane is not run"; exit 1; }
echo "== tests (ASan/UBSan build)"
# plain_only: tests whose subject is the kernel side, timing or exact loss accounting
# (tests/host/CMakeLists.txt says which and why)
ctest --test-dir build-asan -LE plain_only --output-on-failure

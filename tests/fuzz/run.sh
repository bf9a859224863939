#!/usr/bin/env bash
# tests/fuzz/run.sh [seconds-per-target] [target...]
#
# Build every libFuzzer target (clang, -DVIGIL_FUZZ=ON, in a build tree of its own) and run
# each for a fixed time on a temporary copy of its corpus (tests/fuzz/corpus/<target>/ plus
# the kept crash cases of tests/fuzz/regressions/<target>/). Prints, per target, the inputs
# executed and the rate; fails when a target crashes, leaks, times out or runs out of
# memory, and copies what it found to $FUZZ_BUILD_DIR/artifacts/<target>/ (fix the parser,
# then keep the input in tests/fuzz/regressions/<target>/ so every build replays it).
#
# Environment: FUZZ_BUILD_DIR (default build-fuzz), FUZZ_CC (default clang), FUZZ_JOBS
# (targets run at once, default 1), FUZZ_BUILD_JOBS (default nproc), FUZZ_BPF_PREBUILT (a
# built tree's bpf-gen directory: its BPF objects are copied, not compiled again),
# FUZZ_CORPUS_DIR (keep each target's grown corpus in $FUZZ_CORPUS_DIR/<target>/ across runs
# instead of a temporary copy), FUZZ_SEED (libFuzzer's -seed: the same mutations every run, as CI's
# fuzz.run uses, so a CI run explores what the last one did and a new finding shows up
# where someone fuzzes on purpose). Run it under `nice -n 10` on a shared machine.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
shift || true
case "$secs" in ''|*[!0-9]*|0) echo "usage: $0 [seconds-per-target > 0] [target...]" >&2; exit 2 ;; esac
build=${FUZZ_BUILD_DIR:-$src/build-fuzz}
jobs=${FUZZ_JOBS:-1}

echo "== fuzz: building in $build"
cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER="${FUZZ_CC:-clang}" -DVIGIL_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVIGIL_BPF_PREBUILT="${FUZZ_BPF_PREBUILT:-}" >/dev/null
cmake --build "$build" --target fuzz -j"${FUZZ_BUILD_JOBS:-$(nproc)}" >/dev/null

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(grep -v '^$' "$build/tests/fuzz/targets.txt")
fi
work=$(mktemp -d /tmp/vigil-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Seeds read where the project ships them (tests/fuzz/CMakeLists.txt's SEEDS).
shipped_seeds() {
  case $1 in
  policy) echo rules/policies tests/unit/policies ;;
  lua_rule) echo rules/lua ;;
  falco_view) echo tests/fuzz/corpus/bus_msg ;;
  cel) echo tests/fuzz/corpus/bus_msg ;;
  esac
}

# One target: its corpus copied, libFuzzer for $secs seconds, the exit status kept.
run_one() {
  local t=$1 exe=$build/tests/fuzz/$1_fuzz dir=$work/$1
  mkdir -p "$dir"
  if [ -n "${FUZZ_CORPUS_DIR:-}" ]; then
    mkdir -p "$FUZZ_CORPUS_DIR/$t"
    ln -s "$(cd "$FUZZ_CORPUS_DIR/$t" && pwd)" "$dir/corpus"
  else
    mkdir "$dir/corpus"
  fi
  if [ -d "$src/tests/fuzz/corpus/$t" ]; then
    cp "$src/tests/fuzz/corpus/$t/"* "$dir/corpus/"
  fi
  for d in $(shipped_seeds "$t"); do
    cp "$src/$d/"* "$dir/corpus/"
  done
  if [ -d "$src/tests/fuzz/regressions/$t" ]; then
    cp "$src/tests/fuzz/regressions/$t/"* "$dir/corpus/" 2>/dev/null || true
  fi
  local rc=0 TIMEFORMAT='%U %S'
  { time "$exe" -max_total_time="$secs" ${FUZZ_SEED:+-seed="$FUZZ_SEED"} -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$dir/" "$dir/corpus" >"$dir/log" 2>&1 || rc=$?; } 2>"$dir/cpu"
  echo "$rc" >"$dir/rc"
}

echo "== fuzz: ${#targets[@]} targets, ${secs}s each, $jobs at a time"
running=0
for t in "${targets[@]}"; do
  if [ ! -x "$build/tests/fuzz/${t}_fuzz" ]; then
    echo "fuzz: no target $t" >&2
    exit 2
  fi
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

# execs/s is per second of wall time; execs/cpu-s per second of CPU the target used, which
# is what to compare on a shared machine
failed=0
printf '%-16s %8s %8s %12s %10s %12s %8s  %s\n' target seconds cpu-s execs execs/s execs/cpu-s corpus result
for t in "${targets[@]}"; do
  dir=$work/$t
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  execs=${execs:-0}
  cpu=$(awk '{ printf "%.1f", $1 + $2 }' "$dir/cpu")
  units=$(find "$dir/corpus/" -type f | wc -l)
  rc=$(cat "$dir/rc")
  result=ok
  if [ "$rc" != 0 ]; then
    failed=1
    result="FAILED (exit $rc)"
    rm -rf "$build/artifacts/$t"
    mkdir -p "$build/artifacts/$t"
    cp "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-* "$build/artifacts/$t/" 2>/dev/null || true
    cp "$dir/log" "$build/artifacts/$t/log"
  fi
  printf '%-16s %8s %8s %12s %10s %12s %8s  %s\n' "$t" "$secs" "$cpu" "$execs" "$((execs / secs))" \
    "$(awk -v e="$execs" -v c="$cpu" 'BEGIN { printf "%d", (c > 0 ? e / c : 0) }')" "$units" "$result"
done
if [ "$failed" != 0 ]; then
  for t in "${targets[@]}"; do
    [ "$(cat "$work/$t/rc")" = 0 ] && continue
    echo "== $t: $(ls "$build/artifacts/$t" | grep -v '^log$' | tr '\n' ' ')(in $build/artifacts/$t)"
    grep -E 'ERROR:|SUMMARY:|property violated|==[0-9]+==' "$work/$t/log" | head -8 || true
  done
  exit 1
fi

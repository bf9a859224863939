#!/usr/bin/env bash
# tests/valgrind/run.sh BUILD_DIR - the agent's own tests under valgrind memcheck: every
# unit-test executable, then a short agent session (a tracepoint and a uprobe policy, events, policy
# add/delete cycles, malformed control requests, SIGTERM). Fails on any memcheck error or
# definite leak (exit 99 from valgrind), on a unit test that fails for another reason than
# running under valgrind, or on an agent that does not stop cleanly.
set -uo pipefail
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
vg=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99
    --suppressions="$here/vigil.supp" --num-callers=30)
# Assertions that measure the test's own process: /proc/self/exe is memcheck's binary,
# and timing budgets do not survive a 20-50x slowdown. Anything else must pass.
valgrind_sensitive="test_procfs_real_finds_self_with_its_binary
test_infinite_loop_is_stopped_and_the_rule_disabled
test_loop_that_catches_the_budget_error_still_stops
test_memory_bomb_is_stopped_and_the_rule_disabled
test_rep_is_capped_and_charged
test_pattern_bomb_is_refused_at_once_and_the_rule_disabled
test_watchdog_stops_slow_c_calls_between_hook_checks
test_user_sized_work_is_stopped_and_counted
test_deadline_holds_where_the_kick_signal_is_blocked"
# Unit tests left to the ASan build: test_selectors_bpf loads and verifies one BPF program per
# case, and libbpf parsing the kernel's BTF 35 times under memcheck takes minutes.
valgrind_skipped="test_selectors_bpf"
tmp=$(mktemp -d /tmp/vigil-valgrind.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0

command -v valgrind >/dev/null || { echo "valgrind not installed"; exit 1; }

# ---- unit tests, two at a time (memcheck runs a program on one core) ----
# One unit executable under memcheck; its verdict line goes to $tmp/$name.verdict and a
# failure leaves $tmp/$name.failed.
unit_under_memcheck() {
	local t=$1 name rc failed unexpected start
	name=$(basename "$t")
	start=$(date +%s)
	(cd "$build/tests/unit" && timeout 240 "${vg[@]}" "$t") >"$tmp/$name.log" 2>&1
	rc=$?
	failed=$(sed -n 's/^\[  FAILED  \] \(test_[A-Za-z0-9_]*\)$/\1/p' "$tmp/$name.log" | sort -u)
	unexpected=$(comm -23 <(echo "$failed" | sed '/^$/d') <(echo "$valgrind_sensitive" | sort))
	if [ "$rc" = 99 ] || [ -n "$unexpected" ] || { [ "$rc" != 0 ] && [ -z "$failed" ]; }; then
		{ echo "FAIL $name (rc $rc)${unexpected:+; failed: $unexpected}"
		  grep -E '^==[0-9]+==' "$tmp/$name.log" | head -60; } >"$tmp/$name.verdict"
		touch "$tmp/$name.failed"
	else
		echo "ok   $name ($(( $(date +%s) - start )) s${failed:+; valgrind-sensitive failures ignored: $(echo $failed)})" >"$tmp/$name.verdict"
	fi
}
units=()
for t in "$build"/tests/unit/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	if echo "$valgrind_skipped" | grep -qx "$name"; then
		echo "skip $name (ASan covers it: one BPF load per case is minutes under memcheck)"
		continue
	fi
	while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n || true; done
	unit_under_memcheck "$t" &
	units+=("$name")
done
wait
for name in "${units[@]}"; do
	cat "$tmp/$name.verdict" 2>/dev/null || { echo "FAIL $name (no verdict)"; fail=1; }
	[ -e "$tmp/$name.failed" ] && fail=1
done

# ---- a short agent session (root: it loads BPF) ----
if [ "$(id -u)" != 0 ]; then
	if [ -n "${CI:-}" ]; then echo "FAIL agent session needs root in CI"; exit 1; fi
	echo "skip agent session: needs root"
	exit $fail
fi
bus="ipc://$tmp/events.sock"
ctl="ipc://$tmp/control.sock"
cat >"$tmp/execs.yaml" <<'Y'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "vg-execs"
spec:
  tracepoints:
  - subsystem: "sched"
    event: "sched_process_exec"
Y
# a uprobe with arguments: the generic path, and no cost to the rest of the machine
cat >"$tmp/uprobe.yaml" <<Y
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "vg-uprobe"
spec:
  uprobes:
  - path: "$build/tests/host/uprobe_target"
    symbols: ["vigil_uprobe_target"]
    args:
    - index: 0
      type: "int"
    - index: 1
      type: "string"
Y
sed 's/vg-execs/vg-cycle/' "$tmp/execs.yaml" >"$tmp/cycle.yaml"
start=$(date +%s)
"$build/core/cli/vigil" getevents -o json --bus "$bus" >"$tmp/events.json" 2>/dev/null &
sub=$!
"${vg[@]}" "$build/core/cli/vigild" --bus "$bus" --control "$ctl" --tracing-policy-dir "" --rules-dir "" \
	--tracing-policy "$tmp/execs.yaml" --tracing-policy "$tmp/uprobe.yaml" >"$tmp/vigild.log" 2>&1 &
agent=$!
for _ in $(seq 300); do
	"$build/core/cli/vigil" status --control "$ctl" >/dev/null 2>&1 && break
	kill -0 $agent 2>/dev/null || break
	sleep 0.5
done
if "$build/core/cli/vigil" status --control "$ctl" >/dev/null 2>&1; then
	for i in $(seq 20); do /bin/true; "$build/tests/host/uprobe_target" "$i" word >/dev/null; done
	for i in 1 2 3; do
		"$build/core/cli/vigil" tracingpolicy add "$tmp/cycle.yaml" --control "$ctl" >/dev/null || fail=1
		/bin/true
		"$build/core/cli/vigil" tracingpolicy delete vg-cycle --control "$ctl" >/dev/null || fail=1
	done
	VIGIL_SRC="$src" python3 -c '
import os, sys
sys.path.insert(0, os.path.join(os.environ["VIGIL_SRC"], "tests", "host"))
import spwire
c = spwire.Control(sys.argv[1], timeout=120)
for payload in (b"", b"\x93\x01\x02\x03", b"\x81\xa3cmd\xa7no_such", os.urandom(64)):
    assert spwire.unpack(c.request_raw(payload))[0]["ok"] is False
assert c.request(cmd="policy_add", yaml="garbage: [")["ok"] is False
' "$ctl" || fail=1
	sleep 2
	"$build/core/cli/vigil" status --control "$ctl" >"$tmp/status.txt" 2>&1 || fail=1
else
	echo "FAIL agent did not come up"
	fail=1
fi
kill -TERM $agent 2>/dev/null
wait $agent
rc=$?
kill $sub 2>/dev/null
wait $sub 2>/dev/null
events=$(grep -c . "$tmp/events.json")
if [ "$rc" != 0 ] || grep -qE '^==[0-9]+== [A-Z]' "$tmp/vigild.log"; then
	echo "FAIL agent session (rc $rc)"
	grep -E '^==[0-9]+==' "$tmp/vigild.log" | head -80
	fail=1
else
	echo "ok   agent session ($(( $(date +%s) - start )) s, $events events on the bus, stopped with rc 0)"
fi
grep -E "policy_records |control_bad_requests|policies_retired|hook_id_slots" "$tmp/status.txt" | sed 's/^/     /'
exit $fail

#!/bin/sh
# 00_smoke - vigild on Debian 12's stock kernel: the mechanisms the policy engine needs all
# probe ok, real execs and exits reach the export file and the bus, SIGTERM stops it with 0.
# vm-bin: /usr/bin/true
. "$(dirname "$0")/lib.sh"

[ -r /sys/kernel/btf/vmlinux ] || fail "no /sys/kernel/btf/vmlinux: this kernel has no BTF"
info "kernel $(uname -r), lsm=$(cat /sys/kernel/security/lsm)"

start_agent
info "process hooks $(jq -r .process_mechanism "$STATUS")"
info "mechanisms $(jq -r '[.mechanisms[] | .name + "=" + (if .ok then "ok" else "no (" + .reason + ")" end)]
	| join(", ")' "$STATUS")"
missing=$(mechanisms_missing kprobe fentry fmod_ret lsm tp_btf ringbuf)
[ -z "$missing" ] || fail "mechanisms should probe ok on this kernel: $missing"

# a program of ours and one from the distribution, each exec'd and exiting
prog=/opt/vigil/tests/host/exit_code
expect_rc 3 "$prog" 3
expect_rc 0 /usr/bin/true smoke

expect_event ".process_exec.process.binary == \"$prog\" and .process_exec.process.arguments == \"3\""
pid=$(echo "$MATCH" | jq .process_exec.process.pid)
exec_id=$(echo "$MATCH" | jq -r .process_exec.process.exec_id)
expect_event ".process_exit.process.exec_id == \"$exec_id\" and .process_exit.process.pid == $pid
	and .process_exit.process.binary == \"$prog\" and .process_exit.status == 3"
expect_event '.process_exec.process.binary == "/usr/bin/true" and .process_exec.process.arguments == "smoke"
	and .process_exec.process.cwd == "/tmp" and .node_name == "vm"'
expect_event '.process_exit.process.binary == "/usr/bin/true" and (.process_exit | has("status") | not)'

# the bus delivered the same exec to a subscriber
expect_event -f "$BUS_EVENTS" ".process_exec.process.exec_id == \"$exec_id\""

agent_status
for c in bad_records kernel_ringbuf_full; do
	[ "$(jq ".counters.$c" "$STATUS")" = 0 ] || fail "counter $c is $(jq ".counters.$c" "$STATUS"), expected 0"
done

stop_agent || fail "vigild exited $AGENT_RC on SIGTERM, expected 0"
grep -q "vigild: stopped" "$AGENT_LOG" || fail "vigild did not log its clean stop"
pass

#!/bin/sh
# 53_usdt_set - the Set action on the stock kernel (no lockdown, so bpf_probe_write_user is
# there), tried by an unprivileged user (nobody): the probe's first argument, kept in memory,
# is written in the user's run of the binary the policy selects (matchBinaries), and only
# there: the same file run under another name, the user's own copy, and a binary whose policy
# is in monitor mode keep their value; the agent runs on.
. "$(dirname "$0")/lib.sh"

dir=/opt/vmset
mkdir -p "$dir"
cp /opt/vigil/tests/host/usdt_set_target "$dir/target"
ln "$dir/target" "$dir/alias"
cp /opt/vigil/tests/host/usdt_set_target "$dir/monitored"
policy() {	# policy NAME BINARY
	cat <<YAML
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "$1"
spec:
  usdts:
  - path: "$2"
    provider: "tetragon"
    name: "test_4B"
    args:
    - {index: 0, type: "int32"}
    selectors:
    - matchBinaries:
      - operator: "In"
        values: ["$2"]
      matchActions:
      - action: Set
        argIndex: 0
        argValue: 32
YAML
}
policy usdt-set "$dir/target" >"$WORK/set.yaml"
policy usdt-set-monitor "$dir/monitored" >"$WORK/monitor.yaml"

start_agent
add_policy "$WORK/set.yaml"
add_policy "$WORK/monitor.yaml" -m monitor
as_nobody() {	# as_nobody CMD...: its exit status
	su -s /bin/sh nobody -c "$*" >/dev/null 2>&1
}
mkdir -p /tmp/nobody && chown nobody /tmp/nobody
as_nobody "$dir/target"
set_rc=$?
as_nobody "$dir/alias"
alias_rc=$?
as_nobody "cp $dir/target /tmp/nobody/copy && /tmp/nobody/copy"
copy_rc=$?
as_nobody "$dir/monitored"
monitor_rc=$?
info "exit status (the first argument): selected $set_rc, alias $alias_rc, copy $copy_rc, monitored $monitor_rc"
[ "$set_rc" = 32 ] || fail "the selected binary's argument was not written: exit $set_rc"
[ "$alias_rc" = 1 ] || fail "the same file under another name was written: exit $alias_rc"
[ "$copy_rc" = 1 ] || fail "the user's own copy was written: exit $copy_rc"
[ "$monitor_rc" = 1 ] || fail "Set wrote in monitor mode: exit $monitor_rc"
expect_event '.process_usdt.policy_name == "usdt-set" and .process_usdt.action == "KPROBE_ACTION_SET"
	and .process_usdt.process.uid == 65534 and .process_usdt.process.binary == "'"$dir/target"'"'
n=$(count_events '.process_usdt.policy_name == "usdt-set"')
[ "$n" = 1 ] || fail "expected 1 usdt-set event (the selected run only), got $n"
alive "$AGENT_PID" || fail "the agent died"
stop_agent || fail "vigild exited $AGENT_RC"
pass

#!/bin/sh
# 11_lsm_override - enforcement on a stock kernel: an lsmhooks: policy on bprm_check_security
# denies an exec (the marker is never written, the exec fails with EPERM) through BPF LSM;
# a kprobes: policy on security_file_open with Override fails an open with EACCES through
# fmod_ret; and a kprobes: Sigkill kills the opener. Innocent neighbours pass.
# imaHash (as Tetragon's lsm_bprm_check.yaml: Override, then Post with imaHash): the denied
# exec's event and an allowed one's carry the binary's sha256 as the kernel computed it
# (bpf_ima_file_hash in a sleepable LSM program that runs after the selectors' program).
# Set (usdts) on this kernel (no lockdown, so bpf_probe_write_user is there), tried by an
# unprivileged user (nobody): the probe's first argument, kept in memory, is written in the
# user's run of the binary the policy selects (matchBinaries), and only there: the same file
# run under another name, the user's own copy, and a binary whose policy is in monitor mode
# keep their value; the agent runs on.
# vm-bin: /usr/bin/cat
. "$(dirname "$0")/lib.sh"

cp /opt/vigil/tests/host/marker /opt/vmx
cp /opt/vigil/tests/host/marker /opt/vmy
cat >"$WORK/lsm.yaml" <<'YAML'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "deny-exec"
spec:
  lsmhooks:
  - hook: "bprm_check_security"
    args:
    - index: 0
      type: "linux_binprm"
    selectors:
    - matchArgs:
      - index: 0
        operator: "Equal"
        values: ["/opt/vmx"]
      matchActions:
      - action: Override
        argError: -1
      - action: Post
        imaHash: true
    - matchArgs:
      - index: 0
        operator: "Equal"
        values: ["/opt/vmy"]
      matchActions:
      - action: Post
        imaHash: true
YAML
cat >"$WORK/open.yaml" <<'YAML'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "deny-open"
spec:
  kprobes:
  - call: "security_file_open"
    syscall: false
    args:
    - index: 0
      type: "file"
    selectors:
    - matchArgs:
      - index: 0
        operator: "Equal"
        values: ["/etc/vigil-denied"]
      matchActions:
      - action: Override
        argError: -13
    - matchArgs:
      - index: 0
        operator: "Equal"
        values: ["/etc/vigil-kill"]
      matchActions:
      - action: Sigkill
YAML
echo a >/etc/vigil-denied
echo b >/etc/vigil-kill
echo c >/etc/vigil-fine

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

start_agent --tracing-policy "$WORK/lsm.yaml" --tracing-policy "$WORK/open.yaml" --tracing-policy "$WORK/set.yaml"
add_policy "$WORK/monitor.yaml" -m monitor
info "bprm_check_security via $(jq -r '.policies[] | select(.name == "deny-exec") | .hooks[0].mechanism' "$STATUS"); security_file_open Override via $(jq -r '.policies[] | select(.name == "deny-open") | .hooks[0].mechanism' "$STATUS")"

/opt/vmx "$WORK/x.marker" 2>"$WORK/exec.err"
rc=$?
[ "$rc" != 0 ] || fail "the denied exec ran (rc 0)"
[ -e "$WORK/x.marker" ] && fail "the denied binary wrote its marker"
grep -qi "not permitted" "$WORK/exec.err" || fail "exec did not fail with EPERM: $(cat "$WORK/exec.err")"
expect_rc 0 /opt/vmy "$WORK/y.marker"
[ -e "$WORK/y.marker" ] || fail "the innocent binary did not run"

/usr/bin/cat /etc/vigil-denied >/dev/null 2>"$WORK/open.err"
grep -qi "permission denied" "$WORK/open.err" || fail "open did not fail with EACCES: $(cat "$WORK/open.err")"
expect_rc 137 /usr/bin/cat /etc/vigil-kill
expect_rc 0 /usr/bin/cat /etc/vigil-fine

expect_event '.process_lsm.function_name == "bprm_check_security" and .process_lsm.action == "KPROBE_ACTION_OVERRIDE"
	and .process_lsm.args[0].linux_binprm_arg.path == "/opt/vmx"
	and .process_lsm.ima_hash == "sha256:'"$(sha256sum /opt/vmx | cut -d' ' -f1)"'"'
expect_event '.process_lsm.function_name == "bprm_check_security" and .process_lsm.args[0].linux_binprm_arg.path == "/opt/vmy"
	and .process_lsm.ima_hash == "sha256:'"$(sha256sum /opt/vmy | cut -d' ' -f1)"'"'
expect_event '.process_kprobe.action == "KPROBE_ACTION_OVERRIDE" and .process_kprobe.args[0].file_arg.path == "/etc/vigil-denied"'
expect_event '.process_kprobe.action == "KPROBE_ACTION_SIGKILL" and .process_kprobe.args[0].file_arg.path == "/etc/vigil-kill"'
expect_event '.process_exit.process.binary == "/usr/bin/cat" and .process_exit.signal == "SIGKILL"'
expect_no_event '.process_kprobe.args[0].file_arg.path == "/etc/vigil-fine"'
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
agent_status
set_failed=$(jq '.counters.kernel_set_failed' "$STATUS")
ima_failed=$(jq '.counters.kernel_ima_hash_failed' "$STATUS")
[ "$set_failed" = 0 ] || fail "kernel_set_failed is $set_failed after one successful Set"
[ "$ima_failed" = 0 ] || fail "kernel_ima_hash_failed is $ima_failed after two hashed events"
alive "$AGENT_PID" || fail "the agent died"
stop_agent || fail "vigild exited $AGENT_RC"
pass

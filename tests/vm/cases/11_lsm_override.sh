#!/bin/sh
# 11_lsm_override - enforcement on a stock kernel: an lsmhooks: policy on bprm_check_security
# denies an exec (the marker is never written, the exec fails with EPERM) through BPF LSM;
# a kprobes: policy on security_file_open with Override fails an open with EACCES through
# fmod_ret; and a kprobes: Sigkill kills the opener. Innocent neighbours pass.
# imaHash (as Tetragon's lsm_bprm_check.yaml: Override, then Post with imaHash): the denied
# exec's event and an allowed one's carry the binary's sha256 as the kernel computed it
# (bpf_ima_file_hash in a sleepable LSM program that runs after the selectors' program).
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

start_agent --tracing-policy "$WORK/lsm.yaml" --tracing-policy "$WORK/open.yaml"
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
stop_agent || fail "vigild exited $AGENT_RC"
pass

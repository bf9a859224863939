#!/bin/sh
# 12_shipped_policies - every policy in rules/policies loads on a stock kernel with every hook
# attached (none skipped: this kernel has BPF LSM), and block-cryptominers denies the exec
# itself through the LSM hook before the Sigkill fallback would be needed. The syscalls:
# sys_enter_openat policies run as fentry on the syscall here (no syscall tracepoint, which
# would put every syscall on the slow path), their arguments still the tracepoint's, all three
# tail-called by openat's one fentry program (its dispatcher): one policy deleted and added
# again, the others keep reporting, and it reports again; nobody's opens get through. A
# syscalls:sys_exit_X hook without arguments runs as fexit, after the syscall.
. "$(dirname "$0")/lib.sh"

start_agent --tracing-policy-dir /opt/vigil/rules/policies
n=$(jq '[.policies[]] | length' "$STATUS")
want=$(ls /opt/vigil/rules/policies/*.yaml | wc -l)
[ "$n" = "$want" ] || fail "$n of $want shipped policies loaded: $(grep "^vigil: /opt" "$AGENT_LOG" | cut -c1-300)"
bad=$(jq -r '[.policies[] | .name as $p | .hooks[] | select(.attached | not) | $p + ": " + .hook + " " + (.note // "")] | join("; ")' "$STATUS")
[ -z "$bad" ] || fail "hooks not attached: $bad"
info "vigild holds $(ls /proc/$AGENT_PID/fd | wc -l) descriptors (limit $(grep 'open files' /proc/$AGENT_PID/limits | tr -s ' ' | cut -d' ' -f4))"
info "cryptominer hooks: $(jq -r '[.policies[] | select(.name == "block-cryptominers") | .hooks[] | .hook + " via " + .mechanism] | join(", ")' "$STATUS")"

cp /opt/vigil/tests/host/marker /tmp/xmrig
/tmp/xmrig "$WORK/miner.marker" 2>/dev/null
rc=$?
[ "$rc" != 0 ] || fail "the miner ran"
[ -e "$WORK/miner.marker" ] && fail "the miner wrote its marker"
# Override and Sigkill both run; the event names the strongest, Sigkill
expect_event '.process_lsm.policy_name == "block-cryptominers" and .process_lsm.action == "KPROBE_ACTION_SIGKILL"
	and .process_lsm.args[0].linux_binprm_arg.path == "/tmp/xmrig"'

openat_mechs() {
	jq -r '[.policies[] | select(.name == "monitor-sensitive-files" or .name == "write-etc-boot"
		or .name == "lua-files") | .hooks[] | select(.hook | test("sys_enter_openat$")) | .mechanism] | join(",")' \
		"$STATUS"
}
tp=$(openat_mechs)
[ "$tp" = "fentry (dispatched),fentry (dispatched),fentry (dispatched)" ] ||
	fail "the shipped sys_enter_openat hooks run as \"$tp\", not three in openat's fentry dispatcher"
[ -e /etc/shadow ] || { echo 'root:*:20000:0:99999:7:::' >/etc/shadow && chmod 640 /etc/shadow; }
cat /etc/shadow >/dev/null
expect_event '.process_tracepoint.policy_name == "monitor-sensitive-files" and .process_tracepoint.event == "sys_enter_openat"
	and .process_tracepoint.args[0].string_arg == "/etc/shadow"'
# one of the three out: the others on openat go on, it is silent; back in: it reports again
vigil tracingpolicy delete monitor-sensitive-files --control "$CONTROL" >/dev/null || fail "cannot delete monitor-sensitive-files"
cat /etc/shadow.vigil-gone 2>/dev/null
echo x >/etc/vigil-dispatch-1
expect_event '.process_tracepoint.policy_name == "write-etc-boot" and .process_tracepoint.args[0].string_arg == "/etc/vigil-dispatch-1"'
expect_no_event -t 1 '.process_tracepoint.args[0].string_arg == "/etc/shadow.vigil-gone"'
add_policy /opt/vigil/rules/policies/monitor-sensitive-files.yaml
agent_status
tp=$(openat_mechs)
[ "$tp" = "fentry (dispatched),fentry (dispatched),fentry (dispatched)" ] ||
	fail "after monitor-sensitive-files came back the sys_enter_openat hooks run as \"$tp\""
cat /etc/shadow.vigil-back 2>/dev/null
echo x >/etc/vigil-dispatch-2
expect_event '.process_tracepoint.policy_name == "monitor-sensitive-files" and .process_tracepoint.args[0].string_arg == "/etc/shadow.vigil-back"'
expect_event '.process_tracepoint.policy_name == "write-etc-boot" and .process_tracepoint.args[0].string_arg == "/etc/vigil-dispatch-2"'
# nobody, refused by the files' modes (the call is still made): openat's dispatcher rejects
# most opens with its chain's quick test compiled as constants (fentry_dispatch.bpf.c); a
# read of a watched path and a write under /etc get through it to their hooks
su -s /bin/sh nobody -c "cat /etc/shadow; echo x >/etc/vigil-nobody" >/dev/null 2>&1
expect_event '.process_tracepoint.policy_name == "monitor-sensitive-files" and .process_tracepoint.process.uid == 65534
	and .process_tracepoint.args[0].string_arg == "/etc/shadow"'
expect_event '.process_tracepoint.policy_name == "write-etc-boot" and .process_tracepoint.process.uid == 65534
	and .process_tracepoint.args[0].string_arg == "/etc/vigil-nobody"'
# the quick test compares a path's first 8 bytes: a path that passes it on a later value of
# a list reports; one that shares a value's 8 bytes and differs after them is the hook's to
# reject; a relative path opened for writing (lua-files' NotPrefix "/", a string no first
# bytes can judge) gets through on its flags alone
cat /etc/kubernetes/pki/vigil-quick 2>/dev/null
cat /etc/shadoq 2>/dev/null
(cd /etc && echo x >vigil-rel)
expect_event '.process_tracepoint.policy_name == "monitor-sensitive-files"
	and .process_tracepoint.args[0].string_arg == "/etc/kubernetes/pki/vigil-quick"'
expect_event '.process_tracepoint.policy_name == "lua-files" and .process_tracepoint.args[0].string_arg == "vigil-rel"'
expect_no_event -t 1 '.process_tracepoint.args[0].string_arg == "/etc/shadoq"'
rm -f /etc/vigil-rel

tp=$(jq -r '[.policies[] | select(.name == "capability-gain") | .hooks[] | .mechanism] | join(",")' "$STATUS")
[ "$tp" = fexit,fexit ] || fail "capability-gain's sys_exit hooks run as \"$tp\", not fexit"
cat >"$WORK/capset-exit.yaml" <<'EOF2'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "capset-exit"
spec:
  tracepoints:
  - subsystem: "syscalls"
    event: "sys_exit_capset"
    selectors:
    - matchBinaries:
      - operator: "In"
        values: ["/opt/vigil/tests/vm/capdrop"]
EOF2
add_policy "$WORK/capset-exit.yaml"
/opt/vigil/tests/vm/capdrop || fail "capdrop failed"
expect_event '.process_tracepoint.policy_name == "capset-exit" and .process_tracepoint.event == "sys_exit_capset"
	and .process_tracepoint.process.binary == "/opt/vigil/tests/vm/capdrop"'
stop_agent || fail "vigild exited $AGENT_RC"
pass

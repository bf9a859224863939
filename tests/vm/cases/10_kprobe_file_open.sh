#!/bin/sh
# 10_kprobe_file_open - a kprobes: policy on security_file_open with a file argument and a
# Prefix selector, on the mechanism the loader picks on a stock kernel (fentry), and a
# tcp_connect policy with sock DAddr/DPort selectors; non-matching activity posts nothing.
# Per-hook fallback: do_mmap's 8 arguments are more than 6.1's x86-64 trampoline takes, so its
# fentry attach fails (ENOTSUPP) and the hook falls back to a kprobe, which status, `tp list`
# and the log say, and which posts; dev_queue_xmit (on 6.1 an inline wrapper whose one
# out-of-line copy is notrace) is refused with the kernel's reason for both mechanisms.
# vm-bin: /usr/bin/cat
. "$(dirname "$0")/lib.sh"

cat >"$WORK/file.yaml" <<'YAML'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "file-open"
spec:
  kprobes:
  - call: "security_file_open"
    syscall: false
    args:
    - index: 0
      type: "file"
    - index: 0
      type: "uint64"
      resolve: "f_inode.i_ino"
    selectors:
    - matchArgs:
      - index: 0
        operator: "Prefix"
        values: ["/etc/vigil-vm"]
YAML
cat >"$WORK/connect.yaml" <<'YAML'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "tcp-connect"
spec:
  kprobes:
  - call: "tcp_connect"
    syscall: false
    args:
    - index: 0
      type: "sock"
    selectors:
    - matchArgs:
      - index: 0
        operator: "DAddr"
        values: ["127.0.0.1/32"]
      - index: 0
        operator: "DPort"
        values: ["8081"]
YAML
cat >"$WORK/creds.yaml" <<'YAML'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "commit-creds"
spec:
  kprobes:
  - call: "commit_creds"
    syscall: false
    args:
    - index: 0
      type: "cred"
YAML
cat >"$WORK/mmap.yaml" <<'YAML'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "mmap-libc"
spec:
  kprobes:
  - call: "do_mmap"
    syscall: false
    args:
    - index: 0
      type: "file"
    selectors:
    - matchBinaries:
      - operator: "In"
        values: ["/usr/bin/cat"]
      matchArgs:
      - index: 0
        operator: "Postfix"
        values: ["/libc.so.6"]
YAML
cat >"$WORK/xmit.yaml" <<'YAML'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "xmit"
spec:
  kprobes:
  - call: "dev_queue_xmit"
    syscall: false
    args:
    - index: 0
      type: "skb"
YAML
echo secret >/etc/vigil-vm-test
echo other >/etc/vigil-other

start_agent --tracing-policy "$WORK/file.yaml" --tracing-policy "$WORK/connect.yaml" --tracing-policy "$WORK/creds.yaml" \
	--tracing-policy "$WORK/mmap.yaml"
hook=$(jq -c '.policies[] | select(.name == "mmap-libc") | .hooks[0]' "$STATUS")
info "do_mmap: $hook"
echo "$hook" | jq -e '.mechanism == "kprobe" and .attached and (.note | test("fentry failed .*524.*fell back to kprobe"))' \
	>/dev/null || fail "do_mmap should fall back from fentry to kprobe: $hook"
vigil tracingpolicy list --control "$CONTROL" | grep -q 'do_mmap via kprobe .*fell back to kprobe' ||
	fail "tp list does not say do_mmap fell back: $(vigil tracingpolicy list --control "$CONTROL")"
grep -q 'kprobe do_mmap: fentry failed .*falling back to kprobe' "$AGENT_LOG" || fail "the log does not say do_mmap fell back"
vigil tracingpolicy add "$WORK/xmit.yaml" --control "$CONTROL" >"$WORK/xmit.out" 2>&1 && fail "dev_queue_xmit loaded"
info "dev_queue_xmit: $(cat "$WORK/xmit.out")"
grep -q 'kprobe attach kprobe dev_queue_xmit: Invalid argument (not in available_filter_functions.*notrace' \
	"$WORK/xmit.out" && grep -q 'fentry attach fentry dev_queue_xmit: Device or resource busy' "$WORK/xmit.out" ||
	fail "dev_queue_xmit's refusal does not give the kernel's reason: $(cat "$WORK/xmit.out")"
mech=$(jq -r '.policies[] | select(.name == "file-open") | .hooks[0].mechanism' "$STATUS")
info "security_file_open via $mech; tcp_connect via $(jq -r '.policies[] | select(.name == "tcp-connect") | .hooks[0].mechanism' "$STATUS")"
[ "$mech" = fentry ] || fail "security_file_open should use fentry on this kernel, got $mech"

/usr/bin/cat /etc/vigil-vm-test >/dev/null
/usr/bin/cat /etc/vigil-other >/dev/null
nc -l -p 8081 >/dev/null 2>&1 &
srv=$!
sleep 0.3
echo hi | nc -w 1 127.0.0.1 8081 >/dev/null 2>&1
echo hi | nc -w 1 127.0.0.1 8082 >/dev/null 2>&1	# refused, and not our port anyway
kill "$srv" 2>/dev/null

ino=$(stat -c %i /etc/vigil-vm-test)
# resolve on an argument: the struct file's f_inode->i_ino, typed by security_file_open's BTF
expect_event '.process_kprobe.function_name == "security_file_open"
	and .process_kprobe.args[0].file_arg.path == "/etc/vigil-vm-test"
	and .process_kprobe.args[1].size_arg == "'"$ino"'"
	and .process_kprobe.process.binary == "/usr/bin/cat" and .process_kprobe.policy_name == "file-open"'
expect_event '.process_kprobe.function_name == "tcp_connect"
	and .process_kprobe.args[0].sock_arg.daddr == "127.0.0.1" and .process_kprobe.args[0].sock_arg.dport == 8081'
# every exec commits credentials: a cred argument decoded whole
expect_event '.process_kprobe.function_name == "commit_creds" and .process_kprobe.args[0].process_credentials_arg.uid == 0
	and (.process_kprobe.args[0].process_credentials_arg.caps.effective | index("CAP_SYS_ADMIN"))'
# the fallen-back kprobe reads do_mmap's arguments from the registers
expect_event '.process_kprobe.function_name == "do_mmap" and .process_kprobe.policy_name == "mmap-libc"
	and (.process_kprobe.args[0].file_arg.path | endswith("/libc.so.6")) and .process_kprobe.process.binary == "/usr/bin/cat"'
n=$(count_events '.process_kprobe.policy_name == "file-open"')
[ "$n" = 1 ] || fail "expected exactly 1 file-open event, got $n"
n=$(count_events '.process_kprobe.policy_name == "tcp-connect"')
[ "$n" = 1 ] || fail "expected exactly 1 tcp-connect event, got $n"
stop_agent || fail "vigild exited $AGENT_RC"
pass

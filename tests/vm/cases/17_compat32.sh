#!/bin/sh
# 17_compat32 - 32-bit syscalls (int 0x80 from a 64-bit program) on a kernel where syscall hooks
# are fentry/fexit on __x64_sys_X: the hook also sits on the i386 wrapper (__ia32_compat_sys_X
# or __ia32_sys_X), its arguments rewritten as the x86-64 call's. i386 openat and open
# (__ia32_compat_sys_open) are reported under their syscall with the path, a return probe on
# setuid reports setuid32's id and result, Sigkill hits an int 0x80 opener, and a
# syscalls:sys_exit_X hook (fexit here, as capability-gain's) sees an int 0x80 setreuid32.
# As nobody: i386 calls whose wrapper has another name reach their twin's hook (setuid16:
# __ia32_sys_setuid16, socketcall's connect, _llseek: __ia32_sys_llseek), a sys_exit_X hook that
# reads the return value (fexit on the wrappers) sees setresuid32's EPERM, and after the agent
# stops under --keep-enforcing the pinned i386 links still kill an int 0x80 opener. Override
# (fmod_ret on the syscall and its i386 wrappers) needs the kernel's error-injection list, which
# Debian's kernels lack: there the policy is refused, with the reason; where it loads, int 0x80
# openat and unlink are denied with the policy's errors.
. "$(dirname "$0")/lib.sh"

cat >"$WORK/compat32.yaml" <<'YAML'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "compat32"
spec:
  kprobes:
  - call: "sys_openat"
    syscall: true
    args:
    - index: 1
      type: "string"
    selectors:
    - matchArgs:
      - index: 1
        operator: "Equal"
        values: ["/etc/vigil-c32-at"]
    - matchArgs:
      - index: 1
        operator: "Prefix"
        values: ["/etc/vigil-c32-kill"]
      matchActions:
      - action: Sigkill
  - call: "sys_open"
    syscall: true
    args:
    - index: 0
      type: "string"
    selectors:
    - matchArgs:
      - index: 0
        operator: "Prefix"
        values: ["/etc/vigil-c32"]
  - call: "sys_setuid"
    syscall: true
    return: true
    args:
    - index: 0
      type: "int"
    returnArg:
      index: 0
      type: "int"
    selectors:
    - matchArgs:
      - index: 0
        operator: "Equal"
        values: ["4242", "4244"]
  - call: "sys_connect"
    syscall: true
    args:
    - index: 0
      type: "int"
    selectors:
    - matchBinaries:
      - operator: "In"
        values: ["/opt/vigil/tests/host/int80"]
  - call: "sys_lseek"
    syscall: true
    args:
    - index: 1
      type: "uint64"
    selectors:
    - matchArgs:
      - index: 1
        operator: "Equal"
        values: ["4294967301"]
  tracepoints:
  - subsystem: "syscalls"
    event: "sys_exit_setreuid"
    selectors:
    - matchBinaries:
      - operator: "In"
        values: ["/opt/vigil/tests/host/int80"]
  - subsystem: "syscalls"
    event: "sys_exit_setresuid"
    args:
    - index: 5
      type: "int"
    selectors:
    - matchBinaries:
      - operator: "In"
        values: ["/opt/vigil/tests/host/int80"]
YAML

as_nobody() {	# as_nobody CMD...: its exit status, its output in $WORK/nobody.out
	su -s /bin/sh nobody -c "$*" >"$WORK/nobody.out" 2>&1
}
PINS=/sys/fs/bpf/vmtest-c32
start_agent --tracing-policy "$WORK/compat32.yaml" --keep-enforcing --pin-dir "$PINS"
info "syscall hooks via $(jq -r '[.policies[] | select(.name == "compat32") | .hooks[].mechanism] | join(", ")' "$STATUS")"
int80 openat32 /etc/vigil-c32-at >/dev/null
int80 open32 /etc/vigil-c32-open >/dev/null
int80 setuid32 4242 >/dev/null
int80 setreuid32 4243 >/dev/null
expect_rc 137 int80 openat32 /etc/vigil-c32-kill

expect_event '.process_kprobe.function_name == "__x64_sys_openat" and .process_kprobe.args[0].string_arg == "/etc/vigil-c32-at"'
expect_event '.process_kprobe.function_name == "__x64_sys_open" and .process_kprobe.args[0].string_arg == "/etc/vigil-c32-open"'
expect_event '.process_kprobe.function_name == "__x64_sys_setuid" and .process_kprobe.args[0].int_arg == 4242
	and .process_kprobe.return.int_arg == 0'
expect_event '.process_kprobe.function_name == "__x64_sys_openat" and .process_kprobe.action == "KPROBE_ACTION_SIGKILL"
	and .process_kprobe.args[0].string_arg == "/etc/vigil-c32-kill"'
expect_event '.process_tracepoint.event == "sys_exit_setreuid"'

# i386 calls whose wrapper has another name, and a sys_exit_X hook reading the return value
info "sys_exit_setresuid via $(jq -r '[.policies[] | select(.name == "compat32") | .hooks[]
	| select(.hook | test("sys_exit_setresuid")) | .mechanism] | join(", ")' "$STATUS")"
as_nobody /opt/vigil/tests/host/int80 setuid16 4244
as_nobody /opt/vigil/tests/host/int80 connect32 127.0.0.1 9
as_nobody /opt/vigil/tests/host/int80 llseek32 /etc/passwd
as_nobody /opt/vigil/tests/host/int80 setresuid32 4245
grep -qx -- -1 "$WORK/nobody.out" || fail "setresuid32 as nobody printed $(cat "$WORK/nobody.out"), not -1 (EPERM)"
expect_event '.process_kprobe.function_name == "__x64_sys_setuid" and .process_kprobe.args[0].int_arg == 4244
	and .process_kprobe.process.uid == 65534'
expect_event '.process_kprobe.function_name == "__x64_sys_connect" and .process_kprobe.process.uid == 65534'
expect_event '.process_kprobe.function_name == "__x64_sys_lseek" and .process_kprobe.process.uid == 65534
	and (.process_kprobe.args[0] | to_entries[0].value | tostring) == "4294967301"'
expect_event '.process_tracepoint.event == "sys_exit_setresuid" and .process_tracepoint.process.uid == 65534
	and .process_tracepoint.process.arguments == "setresuid32 4245" and .process_tracepoint.args[0].int_arg == -1'
as_nobody /opt/vigil/tests/host/int80 setresuid64 4245	# and the 64-bit call still, at __x64_sys_setresuid's fexit
expect_event '.process_tracepoint.event == "sys_exit_setresuid" and .process_tracepoint.process.uid == 65534
	and .process_tracepoint.process.arguments == "setresuid64 4245" and .process_tracepoint.args[0].int_arg == -1'

# Override on the syscalls: fmod_ret on __x64_sys_X and its i386 wrappers, or refused
mkdir -p /tmp/vigil-c32-deny && : >/tmp/vigil-c32-deny/keep && chown -R nobody /tmp/vigil-c32-deny
cat >"$WORK/deny.yaml" <<'YAML'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "compat32-deny"
spec:
  kprobes:
  - call: "sys_openat"
    syscall: true
    args:
    - index: 1
      type: "string"
    selectors:
    - matchArgs:
      - index: 1
        operator: "Prefix"
        values: ["/tmp/vigil-c32-deny"]
      matchActions:
      - action: Override
        argError: -13
  - call: "sys_unlink"
    syscall: true
    args:
    - index: 0
      type: "string"
    selectors:
    - matchArgs:
      - index: 0
        operator: "Prefix"
        values: ["/tmp/vigil-c32-deny"]
      matchActions:
      - action: Override
        argError: -1
YAML
if vigil tracingpolicy add "$WORK/deny.yaml" --control "$CONTROL" >"$WORK/deny.out" 2>&1; then
	agent_status
	info "Override on syscalls loaded: $(jq -r '[.policies[] | select(.name == "compat32-deny") | .hooks[].mechanism] | join(", ")' "$STATUS")"
	as_nobody /opt/vigil/tests/host/int80 openat32 /tmp/vigil-c32-deny/keep
	grep -qx -- -13 "$WORK/nobody.out" || fail "int 0x80 openat as nobody printed $(cat "$WORK/nobody.out"), not -13"
	as_nobody /opt/vigil/tests/host/int80 unlink32 /tmp/vigil-c32-deny/keep
	grep -qx -- -1 "$WORK/nobody.out" || fail "int 0x80 unlink as nobody printed $(cat "$WORK/nobody.out"), not -1"
	[ -e /tmp/vigil-c32-deny/keep ] || fail "the file an Override denies unlinking is gone"
else
	grep -q "error-injection" "$WORK/deny.out" || fail "Override on syscalls refused without the reason: $(cat "$WORK/deny.out")"
	info "Override on syscalls refused here: $(cut -c1-240 "$WORK/deny.out")"
fi

# --keep-enforcing: the agent stops, its pinned links (the i386 wrappers' too) still enforce
stop_agent || fail "vigild exited $AGENT_RC"
ls "$PINS"/run-*/compat32 | grep -q ia32 || fail "no i386 link pinned: $(ls -R "$PINS")"
as_nobody /opt/vigil/tests/host/int80 openat32 /etc/vigil-c32-kill
rc=$?
rm -rf "$PINS"	# the pins hold the links: removed, the hooks detach
[ "$rc" = 137 ] || fail "after the agent stopped, an int 0x80 opener as nobody exited $rc, not 137 (SIGKILL)"
pass

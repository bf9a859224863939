#!/bin/sh
# 17_compat32 - 32-bit syscalls (int 0x80 from a 64-bit program) on a kernel where syscall hooks
# are fentry/fexit on __x64_sys_X: the hook also sits on the i386 wrapper (__ia32_compat_sys_X
# or __ia32_sys_X), its arguments rewritten as the x86-64 call's. i386 openat and open
# (__ia32_compat_sys_open) are reported under their syscall with the path, a return probe on
# setuid reports setuid32's id and result, Sigkill hits an int 0x80 opener, and a
# syscalls:sys_exit_X hook (fexit here, as capability-gain's) sees an int 0x80 setreuid32.
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
        values: ["4242"]
  tracepoints:
  - subsystem: "syscalls"
    event: "sys_exit_setreuid"
    selectors:
    - matchBinaries:
      - operator: "In"
        values: ["/opt/vigil/tests/host/int80"]
YAML

start_agent --tracing-policy "$WORK/compat32.yaml"
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
stop_agent || fail "vigild exited $AGENT_RC"
pass

#!/bin/sh
# 13_return_probes - return: true on a stock kernel: a syscall hook through fentry/fexit and a
# kernel function (security_file_open) through fexit report the return value, and
# matchReturnArgs keeps only failed calls; a data entry reads the caller's comm from the task.
# vm-bin: /usr/bin/cat
. "$(dirname "$0")/lib.sh"

cat >"$WORK/ret.yaml" <<'YAML'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "failed-opens"
spec:
  kprobes:
  - call: "sys_openat"
    syscall: true
    return: true
    args:
    - index: 1
      type: "string"
    data:
    - index: 0
      type: "string"
      source: "current_task"
      resolve: "comm"
    returnArg:
      index: 0
      type: "int"
    selectors:
    - matchArgs:
      - index: 1
        operator: "Prefix"
        values: ["/etc/vigil-ret"]
      matchReturnArgs:
      - index: 0
        operator: "LT"
        values: ["0"]
  - call: "security_file_open"
    syscall: false
    return: true
    args:
    - index: 0
      type: "file"
    returnArg:
      index: 0
      type: "int"
    selectors:
    - matchArgs:
      - index: 0
        operator: "Prefix"
        values: ["/etc/vigil-ret"]
YAML
echo x >/etc/vigil-ret-exists

start_agent --tracing-policy "$WORK/ret.yaml"
info "return hooks via $(jq -r '[.policies[] | select(.name == "failed-opens") | .hooks[].mechanism] | join(", ")' "$STATUS")"
/usr/bin/cat /etc/vigil-ret-exists >/dev/null
/usr/bin/cat /etc/vigil-ret-missing 2>/dev/null

expect_event '.process_kprobe.function_name == "__x64_sys_openat" and .process_kprobe.return.int_arg == -2
	and .process_kprobe.args[0].string_arg == "/etc/vigil-ret-missing"
	and ((.process_kprobe.data // .process_kprobe.args[1:])[0].string_arg == "cat")'
expect_no_event '.process_kprobe.function_name == "__x64_sys_openat" and .process_kprobe.args[0].string_arg == "/etc/vigil-ret-exists"'
expect_event '.process_kprobe.function_name == "security_file_open" and .process_kprobe.return.int_arg == 0
	and .process_kprobe.args[0].file_arg.path == "/etc/vigil-ret-exists"'
stop_agent || fail "vigild exited $AGENT_RC"
pass

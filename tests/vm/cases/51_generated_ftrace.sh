#!/bin/sh
# 51_generated_ftrace - call "list:ksys" over a generated_ftrace list (pattern ^ksys_(read|write)$,
# matched against available_filter_functions): one kprobe per function, each event naming its
# function; and a generated_syscalls list on the same kernel, one raw_syscalls hook.
. "$(dirname "$0")/lib.sh"

cp /bin/busybox "$WORK/busybox"	# its own path: the policy matches only it
cat >"$WORK/ftrace.yaml" <<POL
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "ftrace-list"
spec:
  lists:
  - name: "ksys"
    type: "generated_ftrace"
    pattern: "^ksys_(read|write)\$"
  kprobes:
  - call: "list:ksys"
    syscall: false
    selectors:
    - matchBinaries:
      - operator: "In"
        values:
        - "$WORK/busybox"
POL
start_agent
require_mechanism kprobe
add_policy "$WORK/ftrace.yaml"
agent_status
hooks=$(jq -r '[.policies[] | select(.name == "ftrace-list") | .hooks[] | .hook + "=" + .mechanism] | join(" ")' "$STATUS")
info "ftrace-list hooks: $hooks"
echo hello >"$WORK/in.txt"
# the shell's read builtin reads with read(2), echo writes with write(2)
"$WORK/busybox" sh -c 'read x <"$1"; echo "$x"' sh "$WORK/in.txt" >/dev/null
expect_event '.process_kprobe.policy_name == "ftrace-list" and .process_kprobe.function_name == "ksys_read"'
expect_event '.process_kprobe.policy_name == "ftrace-list" and .process_kprobe.function_name == "ksys_write"'
stop_agent || fail "vigild exited $AGENT_RC"
pass

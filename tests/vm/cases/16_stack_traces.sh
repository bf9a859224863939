#!/bin/sh
# 16_stack_traces - kernelStackTrace on a stock kernel's trampoline mechanisms: a kprobes:
# policy on security_file_open (fentry there) and an lsmhooks: policy on file_open (BPF LSM)
# each report the kernel stack of the open, named from /proc/kallsyms after the agent dropped
# its capabilities: the syscall entry (do_syscall_64) and the openat syscall are on it. A
# selector without the flag reports none.
# vm-bin: /usr/bin/cat
. "$(dirname "$0")/lib.sh"

cat >"$WORK/stacks.yaml" <<'YAML'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "stacks"
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
        operator: "Prefix"
        values: ["/etc/vigil-vm-stack"]
      matchActions:
      - action: Post
        kernelStackTrace: true
    - matchArgs:
      - index: 0
        operator: "Prefix"
        values: ["/etc/vigil-vm-nostack"]
  lsmhooks:
  - hook: "file_open"
    args:
    - index: 0
      type: "file"
    selectors:
    - matchArgs:
      - index: 0
        operator: "Prefix"
        values: ["/etc/vigil-vm-stack"]
      matchActions:
      - action: Post
        kernelStackTrace: true
YAML

echo x >/etc/vigil-vm-stack
echo x >/etc/vigil-vm-nostack
start_agent --tracing-policy "$WORK/stacks.yaml"
info "mechanisms: $(jq -c '[.policies[] | select(.name == "stacks") | .hooks[].mechanism]' "$STATUS")"
cat /etc/vigil-vm-stack >/dev/null || fail "cat failed"
cat /etc/vigil-vm-nostack >/dev/null || fail "cat failed"

expect_event '.process_kprobe.function_name == "security_file_open"
	and .process_kprobe.args[0].file_arg.path == "/etc/vigil-vm-stack"
	and ([.process_kprobe.kernel_stack_trace[].symbol] | index("do_syscall_64") != null)
	and any(.process_kprobe.kernel_stack_trace[]; (.symbol // "") | test("openat"))'
expect_event '.process_lsm.function_name == "file_open"
	and ([.process_lsm.kernel_stack_trace[].symbol] | index("do_syscall_64") != null)'
expect_event '.process_kprobe.args[0].file_arg.path == "/etc/vigil-vm-nostack"
	and (.process_kprobe | has("kernel_stack_trace") | not)'
stop_agent || fail "vigild exited $AGENT_RC"
pass

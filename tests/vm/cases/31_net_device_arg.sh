#!/bin/sh
# 31_net_device_arg - a net_device argument: dev_hard_start_xmit's device, filtered by its
# name (Equal "lo") in the kernel and reported as Tetragon's net_dev_arg; the packet beside
# it as skb_arg. A name that is not the device matches nothing.
. "$(dirname "$0")/lib.sh"

cat >"$WORK/dev.yaml" <<'YAML'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "xmit-device"
spec:
  kprobes:
  - call: "dev_hard_start_xmit"
    syscall: false
    args:
    - index: 0
      type: "skb"
    - index: 1
      type: "net_device"
    selectors:
    - matchArgs:
      - index: 1
        operator: "Equal"
        values: ["lo"]
      - index: 0
        operator: "DPort"
        values: ["8311"]
    - matchArgs:
      - index: 1
        operator: "Equal"
        values: ["eth9"]
YAML

start_agent --tracing-policy "$WORK/dev.yaml"
info "dev_hard_start_xmit via $(jq -r '.policies[] | select(.name == "xmit-device") | .hooks[0].mechanism' "$STATUS")"
nc -l -p 8311 >/dev/null 2>&1 &
srv=$!
sleep 0.3
echo vigil-dev | nc -w 1 127.0.0.1 8311 >/dev/null 2>&1
kill "$srv" 2>/dev/null

expect_event '.process_kprobe.function_name == "dev_hard_start_xmit" and .process_kprobe.args[1].net_dev_arg.name == "lo"
	and .process_kprobe.args[0].skb_arg.dport == 8311 and .process_kprobe.args[0].skb_arg.daddr == "127.0.0.1"'
expect_no_event '.process_kprobe.policy_name == "xmit-device" and (.process_kprobe.args[1].net_dev_arg.name != "lo"
	or .process_kprobe.args[0].skb_arg.dport != 8311)'
stop_agent || fail "vigild exited $AGENT_RC"
pass

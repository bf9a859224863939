#!/bin/sh
# 30_skb_arg - an skb argument on a kernel function: ip_output's packet, read from its own IP
# and TCP headers, filtered in the kernel by DAddr, Protocol and DPort, and reported as
# Tetragon's skb_arg beside the sock it belongs to; a connection to another port posts nothing.
. "$(dirname "$0")/lib.sh"

cat >"$WORK/skb.yaml" <<'YAML'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "ip-output-skb"
spec:
  kprobes:
  - call: "ip_output"
    syscall: false
    args:
    - index: 1
      type: "sock"
    - index: 2
      type: "skb"
      label: "packet"
    selectors:
    - matchArgs:
      - index: 2
        operator: "DAddr"
        values: ["127.0.0.0/8"]
      - index: 2
        operator: "Protocol"
        values: ["IPPROTO_TCP"]
      - index: 2
        operator: "DPort"
        values: ["8301"]
      - index: 2
        operator: "NotSAddr"
        values: ["10.0.0.0/8"]
YAML

start_agent --tracing-policy "$WORK/skb.yaml"
info "ip_output via $(jq -r '.policies[] | select(.name == "ip-output-skb") | .hooks[0].mechanism' "$STATUS")"
nc -l -p 8301 >/dev/null 2>&1 &
srv=$!
sleep 0.3
echo vigil-skb | nc -w 1 127.0.0.1 8301 >/dev/null 2>&1
echo other | nc -w 1 127.0.0.1 8302 >/dev/null 2>&1	# refused: only a SYN and a RST
kill "$srv" 2>/dev/null

expect_event '.process_kprobe.function_name == "ip_output" and .process_kprobe.args[1].label == "packet"
	and .process_kprobe.args[1].skb_arg.daddr == "127.0.0.1" and .process_kprobe.args[1].skb_arg.saddr == "127.0.0.1"
	and .process_kprobe.args[1].skb_arg.dport == 8301 and .process_kprobe.args[1].skb_arg.proto == 6
	and .process_kprobe.args[1].skb_arg.protocol == "IPPROTO_TCP" and .process_kprobe.args[1].skb_arg.family == "AF_INET"
	and .process_kprobe.args[1].skb_arg.len >= 40
	and .process_kprobe.args[1].skb_arg.sport == .process_kprobe.args[0].sock_arg.sport
	and .process_kprobe.args[0].sock_arg.dport == 8301'
expect_no_event '.process_kprobe.policy_name == "ip-output-skb" and .process_kprobe.args[1].skb_arg.dport != 8301'
stop_agent || fail "vigild exited $AGENT_RC"
pass

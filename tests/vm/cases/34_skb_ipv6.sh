#!/bin/sh
# 34_skb_ipv6 - an IPv6 skb: ip6_output's packet over ::1, its addresses and ports read past
# the IPv6 header, filtered by DAddr (an IPv6 CIDR) and DPort in the kernel.
. "$(dirname "$0")/lib.sh"

cat >"$WORK/skb6.yaml" <<'YAML'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "ip6-output-skb"
spec:
  kprobes:
  - call: "ip6_output"
    syscall: false
    args:
    - index: 2
      type: "skb"
    selectors:
    - matchArgs:
      - index: 2
        operator: "DAddr"
        values: ["::1/128"]
      - index: 2
        operator: "DPort"
        values: ["8341"]
      - index: 2
        operator: "Family"
        values: ["AF_INET6"]
YAML

start_agent --tracing-policy "$WORK/skb6.yaml"
info "ip6_output via $(jq -r '.policies[] | select(.name == "ip6-output-skb") | .hooks[0].mechanism' "$STATUS")"
nc -l -p 8341 >/dev/null 2>&1 &
srv=$!
sleep 0.3
echo vigil-skb6 | nc -w 1 ::1 8341 >/dev/null 2>&1
echo other | nc -w 1 ::1 8342 >/dev/null 2>&1
kill "$srv" 2>/dev/null

expect_event '.process_kprobe.function_name == "ip6_output" and .process_kprobe.args[0].skb_arg.family == "AF_INET6"
	and .process_kprobe.args[0].skb_arg.daddr == "::1" and .process_kprobe.args[0].skb_arg.saddr == "::1"
	and .process_kprobe.args[0].skb_arg.dport == 8341 and .process_kprobe.args[0].skb_arg.sport > 0
	and .process_kprobe.args[0].skb_arg.protocol == "IPPROTO_TCP" and .process_kprobe.args[0].skb_arg.len >= 60'
expect_no_event '.process_kprobe.policy_name == "ip6-output-skb" and .process_kprobe.args[0].skb_arg.dport != 8341'
stop_agent || fail "vigild exited $AGENT_RC"
pass

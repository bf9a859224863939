#!/bin/sh
# 30_skb_net_device - skb and net_device arguments on kernel functions, one agent:
# - ip_output's packet, read from its own IP and TCP headers, filtered in the kernel by DAddr,
#   Protocol, DPort and NotSAddr, reported as Tetragon's skb_arg beside the sock it belongs to;
# - dev_hard_start_xmit's device, filtered by its name (Equal "lo"), as net_dev_arg;
# - ip6_output's IPv6 packet over ::1, filtered by an IPv6 DAddr, DPort and Family.
# Connections to other ports post nothing.
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

start_agent --tracing-policy "$WORK/skb.yaml" --tracing-policy "$WORK/dev.yaml" --tracing-policy "$WORK/skb6.yaml"
info "mechanisms: $(jq -c '[.policies[] | select(.name | test("skb|device")) | .hooks[].mechanism]' "$STATUS")"
for dest in 127.0.0.1:8301 127.0.0.1:8311 ::1:8341; do
	port=${dest##*:}
	nc -l -p "$port" >/dev/null 2>&1 &
	srv=$!
	sleep 0.3
	echo vigil-net | nc -w 1 "${dest%:*}" "$port" >/dev/null 2>&1
	kill "$srv" 2>/dev/null
done
echo other | nc -w 1 127.0.0.1 8302 >/dev/null 2>&1	# refused: only a SYN and a RST
echo other | nc -w 1 ::1 8342 >/dev/null 2>&1

expect_event '.process_kprobe.function_name == "ip_output" and .process_kprobe.args[1].label == "packet"
	and .process_kprobe.args[1].skb_arg.daddr == "127.0.0.1" and .process_kprobe.args[1].skb_arg.saddr == "127.0.0.1"
	and .process_kprobe.args[1].skb_arg.dport == 8301 and .process_kprobe.args[1].skb_arg.proto == 6
	and .process_kprobe.args[1].skb_arg.protocol == "IPPROTO_TCP" and .process_kprobe.args[1].skb_arg.family == "AF_INET"
	and .process_kprobe.args[1].skb_arg.len >= 40
	and .process_kprobe.args[1].skb_arg.sport == .process_kprobe.args[0].sock_arg.sport
	and .process_kprobe.args[0].sock_arg.dport == 8301'
expect_no_event '.process_kprobe.policy_name == "ip-output-skb" and .process_kprobe.args[1].skb_arg.dport != 8301'
expect_event '.process_kprobe.function_name == "dev_hard_start_xmit" and .process_kprobe.args[1].net_dev_arg.name == "lo"
	and .process_kprobe.args[0].skb_arg.dport == 8311 and .process_kprobe.args[0].skb_arg.daddr == "127.0.0.1"'
expect_no_event -t 0 '.process_kprobe.policy_name == "xmit-device" and (.process_kprobe.args[1].net_dev_arg.name != "lo"
	or .process_kprobe.args[0].skb_arg.dport != 8311)'
expect_event '.process_kprobe.function_name == "ip6_output" and .process_kprobe.args[0].skb_arg.family == "AF_INET6"
	and .process_kprobe.args[0].skb_arg.daddr == "::1" and .process_kprobe.args[0].skb_arg.saddr == "::1"
	and .process_kprobe.args[0].skb_arg.dport == 8341 and .process_kprobe.args[0].skb_arg.sport > 0
	and .process_kprobe.args[0].skb_arg.protocol == "IPPROTO_TCP" and .process_kprobe.args[0].skb_arg.len >= 60'
expect_no_event -t 0 '.process_kprobe.policy_name == "ip6-output-skb" and .process_kprobe.args[0].skb_arg.dport != 8341'
stop_agent || fail "vigild exited $AGENT_RC"
pass

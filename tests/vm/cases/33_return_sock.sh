#!/bin/sh
# 33_return_sock - a sock as returnArg: inet_csk_accept's accepted connection reported at the
# return as Tetragon's "return": {"sock_arg": ...} (the listener's port as sport, the client's
# as dport, established; busybox nc listens dual-stack, so the IPv4 client shows as an
# IPv4-mapped IPv6 peer), the listener argument filtered by SPort at the entry; accepts on
# another listener post nothing.
. "$(dirname "$0")/lib.sh"

cat >"$WORK/accept.yaml" <<'YAML'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "accepted"
spec:
  kprobes:
  - call: "inet_csk_accept"
    syscall: false
    return: true
    args:
    - index: 0
      type: "sock"
    returnArg:
      index: 0
      type: "sock"
    returnArgAction: "TrackSock"
    selectors:
    - matchArgs:
      - index: 0
        operator: "SPort"
        values: ["8331"]
YAML

start_agent --tracing-policy "$WORK/accept.yaml"
info "inet_csk_accept via $(jq -r '.policies[] | select(.name == "accepted") | .hooks[0].mechanism' "$STATUS")"
for port in 8331 8332; do
	nc -l -p $port >/dev/null 2>&1 &
	srv=$!
	sleep 0.3
	echo hi | nc -w 1 127.0.0.1 $port >/dev/null 2>&1
	kill "$srv" 2>/dev/null
done

expect_event '.process_kprobe.function_name == "inet_csk_accept" and .process_kprobe.args[0].sock_arg.sport == 8331
	and .process_kprobe.args[0].sock_arg.state == "TCP_LISTEN"
	and .process_kprobe.return.sock_arg.sport == 8331 and .process_kprobe.return.sock_arg.dport > 0
	and .process_kprobe.return.sock_arg.daddr == "::ffff:127.0.0.1" and .process_kprobe.return.sock_arg.family == "AF_INET6"
	and .process_kprobe.return.sock_arg.state == "TCP_ESTABLISHED"'
expect_no_event '.process_kprobe.policy_name == "accepted" and .process_kprobe.args[0].sock_arg.sport != 8331'
stop_agent || fail "vigild exited $AGENT_RC"
pass

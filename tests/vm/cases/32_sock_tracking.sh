#!/bin/sh
# 32_sock_tracking - socket tracking and a sock as returnArg, one agent:
# - returnArgAction TrackSock: sk_alloc's returned sock is tied to the process that created it
#   (NoPost: no event for the allocation itself), __sk_free forgets it (UntrackSock), and an
#   event on that sock that runs in another task's context (the client's sock_def_readable,
#   run while the server sends over loopback) names the owner, the client, not the server
#   whose send ran it;
# - inet_csk_accept's accepted connection reported at the return as Tetragon's
#   "return": {"sock_arg": ...} (the listener's port as sport, the client's as dport,
#   established; busybox nc listens dual-stack, so the IPv4 client shows as an IPv4-mapped
#   IPv6 peer), the listener argument filtered by SPort at the entry; accepts on another
#   listener post nothing.
. "$(dirname "$0")/lib.sh"

cat >"$WORK/track.yaml" <<'YAML'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "sock-owner"
spec:
  kprobes:
  - call: "sk_alloc"
    syscall: false
    return: true
    args:
    - index: 1
      type: "int"
    returnArg:
      index: 0
      type: "sock"
    returnArgAction: "TrackSock"
    selectors:
    - matchArgs:
      - index: 1
        operator: "Equal"
        values: ["2"]
      matchActions:
      - action: "NoPost"
  - call: "__sk_free"
    syscall: false
    args:
    - index: 0
      type: "sock"
    selectors:
    - matchArgs:
      - index: 0
        operator: "Family"
        values: ["AF_INET"]
      matchActions:
      - action: "UntrackSock"
        argSock: 0
      - action: "NoPost"
  - call: "sock_def_readable"
    syscall: false
    args:
    - index: 0
      type: "sock"
    selectors:
    - matchArgs:
      - index: 0
        operator: "DPort"
        values: ["8321"]
YAML
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

start_agent --tracing-policy "$WORK/track.yaml" --tracing-policy "$WORK/accept.yaml"
info "mechanisms: $(jq -c '[.policies[] | select(.name == "sock-owner" or .name == "accepted") | .hooks[].mechanism]' "$STATUS")"
(sleep 1; echo from-server) | nc -l -p 8321 >/dev/null 2>&1 &
srv=$!
sleep 0.3
sleep 3 | nc 127.0.0.1 8321 >"$WORK/client.out" 2>&1 &
client=$!
sleep 2.5
kill "$srv" "$client" 2>/dev/null
grep -q from-server "$WORK/client.out" || fail "the client did not receive the server's data"
say "server $srv (nc in its pipeline), client $client"

for port in 8331 8332; do
	nc -l -p $port >/dev/null 2>&1 &
	srv=$!
	sleep 0.3
	echo hi | nc -w 1 127.0.0.1 $port >/dev/null 2>&1
	kill "$srv" 2>/dev/null
done

expect_event ".process_kprobe.function_name == \"sock_def_readable\" and .process_kprobe.args[0].sock_arg.dport == 8321
	and .process_kprobe.process.pid == $client"
expect_no_event ".process_kprobe.function_name == \"sock_def_readable\" and .process_kprobe.args[0].sock_arg.dport == 8321
	and .process_kprobe.process.pid != $client"
expect_no_event -t 0 '.process_kprobe.function_name == "sk_alloc" or .process_kprobe.function_name == "__sk_free"'
expect_event '.process_kprobe.function_name == "inet_csk_accept" and .process_kprobe.args[0].sock_arg.sport == 8331
	and .process_kprobe.args[0].sock_arg.state == "TCP_LISTEN"
	and .process_kprobe.return.sock_arg.sport == 8331 and .process_kprobe.return.sock_arg.dport > 0
	and .process_kprobe.return.sock_arg.daddr == "::ffff:127.0.0.1" and .process_kprobe.return.sock_arg.family == "AF_INET6"
	and .process_kprobe.return.sock_arg.state == "TCP_ESTABLISHED"'
expect_no_event -t 0 '.process_kprobe.policy_name == "accepted" and .process_kprobe.args[0].sock_arg.sport != 8331'
stop_agent || fail "vigild exited $AGENT_RC"
pass

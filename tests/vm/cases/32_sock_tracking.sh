#!/bin/sh
# 32_sock_tracking - returnArgAction TrackSock: sk_alloc's returned sock is tied to the process
# that created it (NoPost: no event for the allocation itself), __sk_free forgets it
# (UntrackSock), and an event on that sock that runs in another task's context (the client's
# sock_def_readable, run while the server sends over loopback) names the owner, the client,
# not the server whose send ran it.
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

start_agent --tracing-policy "$WORK/track.yaml"
info "sk_alloc via $(jq -r '.policies[] | select(.name == "sock-owner") | .hooks[0].mechanism' "$STATUS")"
(sleep 1; echo from-server) | nc -l -p 8321 >/dev/null 2>&1 &
srv=$!
sleep 0.3
sleep 3 | nc 127.0.0.1 8321 >"$WORK/client.out" 2>&1 &
client=$!
sleep 2.5
kill "$srv" "$client" 2>/dev/null
grep -q from-server "$WORK/client.out" || fail "the client did not receive the server's data"
say "server $srv (nc in its pipeline), client $client"

expect_event ".process_kprobe.function_name == \"sock_def_readable\" and .process_kprobe.args[0].sock_arg.dport == 8321
	and .process_kprobe.process.pid == $client"
expect_no_event ".process_kprobe.function_name == \"sock_def_readable\" and .process_kprobe.args[0].sock_arg.dport == 8321
	and .process_kprobe.process.pid != $client"
expect_no_event '.process_kprobe.function_name == "sk_alloc" or .process_kprobe.function_name == "__sk_free"'
stop_agent || fail "vigild exited $AGENT_RC"
pass

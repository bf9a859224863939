#!/bin/sh
# 15_socket_arg - a `socket` argument (struct socket *) is read through its sk: the
# socket_sendmsg LSM hook of a connected TCP client reports and filters the peer address and
# port; read as a struct sock itself, the fields would be garbage and nothing would match.
. "$(dirname "$0")/lib.sh"

cat >"$WORK/sendmsg.yaml" <<'YAML'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "socket-sendmsg"
spec:
  lsmhooks:
  - hook: "socket_sendmsg"
    args:
    - index: 0
      type: "socket"
    - index: 2
      type: "int"
    selectors:
    - matchArgs:
      - index: 0
        operator: "DAddr"
        values: ["127.0.0.1/32"]
      - index: 0
        operator: "DPort"
        values: ["8091"]
YAML

start_agent --tracing-policy "$WORK/sendmsg.yaml"
info "socket_sendmsg via $(jq -r '.policies[] | select(.name == "socket-sendmsg") | .hooks[0].mechanism' "$STATUS")"
nc -l -p 8091 >/dev/null 2>&1 &
srv=$!
sleep 0.3
echo hello | nc -w 1 127.0.0.1 8091 >/dev/null 2>&1
echo hello | nc -w 1 127.0.0.1 8092 >/dev/null 2>&1	# refused: never sends
kill "$srv" 2>/dev/null

expect_event '.process_lsm.function_name == "socket_sendmsg" and .process_lsm.args[0].sock_arg.daddr == "127.0.0.1"
	and .process_lsm.args[0].sock_arg.dport == 8091 and .process_lsm.args[0].sock_arg.family == "AF_INET"
	and .process_lsm.args[1].int_arg == 6'
expect_no_event '.process_lsm.policy_name == "socket-sendmsg" and .process_lsm.args[0].sock_arg.dport != 8091'
stop_agent || fail "vigild exited $AGENT_RC"
pass

#!/bin/sh
# 19_substring_refused - matchArgs SubString needs the bpf_strnstr kfunc (Linux 6.17+), which
# Debian 12's 6.1 lacks: the agent refuses the policy at the operator, with that reason,
# and keeps running (tests/host/test_substring.py runs the operator where the kfunc exists).
. "$(dirname "$0")/lib.sh"

cat >"$WORK/substr.yaml" <<'YAML'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "substring"
spec:
  tracepoints:
  - subsystem: "syscalls"
    event: "sys_enter_openat"
    args:
    - index: 6
      type: "string"
    selectors:
    - matchArgs:
      - index: 6
        operator: "SubString"
        values: ["needle"]
YAML

start_agent
if vigil tracingpolicy add "$WORK/substr.yaml" --control "$CONTROL" >"$WORK/policy.out" 2>&1; then
	fail "a SubString policy loaded on $(uname -r): $(cat "$WORK/policy.out")"
fi
info "refused: $(cat "$WORK/policy.out")"
grep -q "$WORK/substr.yaml:14:9: SubString needs the bpf_strnstr kfunc (Linux 6.17+); this kernel lacks it" "$WORK/policy.out" ||
	fail "refusal without the position and reason: $(cat "$WORK/policy.out")"
agent_status
jq -e '[.policies[] | select(.name == "substring")] | length == 0' "$STATUS" >/dev/null ||
	fail "the refused policy is listed: $(cat "$STATUS")"
stop_agent || fail "vigild exited $AGENT_RC"
pass

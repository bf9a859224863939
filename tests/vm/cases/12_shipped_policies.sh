#!/bin/sh
# 12_shipped_policies - every policy in rules/policies loads on a stock kernel with every hook
# attached (none skipped: this kernel has BPF LSM), and block-cryptominers denies the exec
# itself through the LSM hook before the Sigkill fallback would be needed.
. "$(dirname "$0")/lib.sh"

start_agent --tracing-policy-dir /opt/vigil/rules/policies
n=$(jq '[.policies[]] | length' "$STATUS")
want=$(ls /opt/vigil/rules/policies/*.yaml | wc -l)
[ "$n" = "$want" ] || fail "$n of $want shipped policies loaded: $(grep "^vigil: /opt" "$AGENT_LOG" | cut -c1-300)"
bad=$(jq -r '[.policies[] | .name as $p | .hooks[] | select(.attached | not) | $p + ": " + .hook + " " + (.note // "")] | join("; ")' "$STATUS")
[ -z "$bad" ] || fail "hooks not attached: $bad"
info "cryptominer hooks: $(jq -r '[.policies[] | select(.name == "block-cryptominers") | .hooks[] | .hook + " via " + .mechanism] | join(", ")' "$STATUS")"

cp /opt/vigil/tests/host/marker /tmp/xmrig
/tmp/xmrig "$WORK/miner.marker" 2>/dev/null
rc=$?
[ "$rc" != 0 ] || fail "the miner ran"
[ -e "$WORK/miner.marker" ] && fail "the miner wrote its marker"
# Override and Sigkill both run; the event names the strongest, Sigkill
expect_event '.process_lsm.policy_name == "block-cryptominers" and .process_lsm.action == "KPROBE_ACTION_SIGKILL"
	and .process_lsm.args[0].linux_binprm_arg.path == "/tmp/xmrig"'
stop_agent || fail "vigild exited $AGENT_RC"
pass

#!/bin/sh
# 52_fmod_ret_return - return: true with Override on a security_* function (Tetragon's
# cve-2023-2640 and modules-nohost examples): fmod_ret forces the error, fexit reports the
# value the call returned (the forced one) with the Override action; mkdir fails with EPERM.
. "$(dirname "$0")/lib.sh"

cp /bin/busybox "$WORK/busybox"	# its own path: the policy matches only it
cat >"$WORK/mkdir.yaml" <<POL
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "deny-mkdir-return"
spec:
  kprobes:
  - call: "security_inode_mkdir"
    syscall: false
    return: true
    args:
    - index: 1
      type: "dentry"
    returnArg:
      index: 0
      type: "int"
    selectors:
    - matchBinaries:
      - operator: "In"
        values:
        - "$WORK/busybox"
      matchActions:
      - action: Override
        argError: -1
POL
start_agent
require_mechanism fmod_ret
add_policy "$WORK/mkdir.yaml"
agent_status
info "hook via $(jq -r '[.policies[] | select(.name == "deny-mkdir-return") | .hooks[].mechanism] | join(", ")' "$STATUS")"
"$WORK/busybox" mkdir "$WORK/denied" 2>/dev/null && fail "mkdir succeeded"
[ -d "$WORK/denied" ] && fail "the directory exists"
mkdir "$WORK/allowed" || fail "another binary's mkdir failed"
expect_event '.process_kprobe.policy_name == "deny-mkdir-return" and .process_kprobe.return.int_arg == -1
	and .process_kprobe.action == "KPROBE_ACTION_OVERRIDE"'
stop_agent || fail "vigild exited $AGENT_RC"
pass

#!/bin/sh
# 14_cap_args - cap_effective / cap_inheritable / cap_permitted arguments on a stock kernel:
# the capset LSM hook reads the three new sets, each typed as its own set, and a Mask filter
# compares capability names as bits (CAP_CHOWN is bit 0, so a filter that took the number 0
# would never match, and CAP_SYS_ADMIN taken as the number 21 would hit bit 0 and NoPost it):
# a capset keeping only CAP_CHOWN effective is reported through the CAP_CHOWN selector.
# CapabilitiesGained (args: [effective, permitted]) reports that capset, whose permitted set
# holds what its effective one lacks, and not capraise's, whose two sets are equal.
. "$(dirname "$0")/lib.sh"

cat >"$WORK/caps.yaml" <<'YAML'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "capset-sets"
spec:
  lsmhooks:
  - hook: "capset"
    args:
    - index: 2
      type: "cap_effective"
    - index: 3
      type: "cap_inheritable"
    - index: 4
      type: "cap_permitted"
    selectors:
    - matchArgs:
      - index: 2
        operator: "Mask"
        values: ["CAP_SYS_ADMIN"]
      matchActions:
      - action: NoPost
    - matchArgs:
      - index: 2
        operator: "Mask"
        values: ["CAP_CHOWN"]
      matchBinaries:
      - operator: "In"
        values: ["/opt/vigil/tests/vm/capdrop"]
YAML

cat >"$WORK/gained.yaml" <<'YAML'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "capset-gained"
spec:
  lsmhooks:
  - hook: "capset"
    args:
    - index: 2
      type: "cap_effective"
    - index: 4
      type: "cap_permitted"
    selectors:
    - matchArgs:
      - args: [0, 1]
        operator: "CapabilitiesGained"
      matchBinaries:
      - operator: "In"
        values: ["/opt/vigil/tests/vm/capdrop", "/opt/vigil/tests/host/capraise"]
YAML

start_agent --tracing-policy "$WORK/caps.yaml" --tracing-policy "$WORK/gained.yaml"
info "capset via $(jq -r '.policies[] | select(.name == "capset-sets") | .hooks[0].mechanism' "$STATUS")"
/opt/vigil/tests/vm/capdrop || fail "capdrop failed"
/opt/vigil/tests/host/capraise || fail "capraise failed"

# effective 0x1 (CAP_CHOWN only); inheritable 0; permitted full: what root had
expect_event '.process_lsm.function_name == "capset" and .process_lsm.process.binary == "/opt/vigil/tests/vm/capdrop"
	and .process_lsm.args[0].cap_effective_arg == "0000000000000001"
	and .process_lsm.args[1].cap_inheritable_arg == "0000000000000000"
	and (.process_lsm.args[2].cap_permitted_arg | test("^000001ff"))'
expect_no_event '.process_lsm.process.binary == "/opt/vigil/tests/vm/capdrop" and .process_lsm.args[0].cap_effective_arg != "0000000000000001"'
expect_event '.process_lsm.policy_name == "capset-gained" and .process_lsm.process.binary == "/opt/vigil/tests/vm/capdrop"'
expect_no_event '.process_lsm.policy_name == "capset-gained" and .process_lsm.process.binary == "/opt/vigil/tests/host/capraise"'
expect_event '.process_exec.process.binary == "/opt/vigil/tests/host/capraise"'
stop_agent || fail "vigild exited $AGENT_RC"
pass

#!/bin/sh
# 35_env_cgroup_rate - the exec program with environment capture and --cgroup-rate passes the
# stock 6.1 kernel's verifier (both paths are cut out when off, so they are switched on here):
# an exec's environment arrives redacted, and an exec burst is throttled and released; a
# burst of forks without exec (subshells) is held back too, in the fork program.
# vm-bin: /usr/bin/true /usr/bin/env
. "$(dirname "$0")/lib.sh"

start_agent --enable-process-environment-variables --filter-environment-variables VM_SECRET,VM_PLAIN \
	--redaction-filters '{"redact":["VM_SECRET=(\\S+)"]}'
expect_rc 0 /usr/bin/env VM_SECRET=hunter2 VM_PLAIN=seen /usr/bin/true vm-env
expect_event '.process_exec.process.arguments == "vm-env"
	and (.process_exec.process.environment_variables | map({(.Key): .Value}) | add)
	    == {"VM_SECRET": "*****", "VM_PLAIN": "seen"}'
stop_agent || fail "vigild exited $AGENT_RC on SIGTERM, expected 0"

# a low rate: TCG execs slowly
start_agent --cgroup-rate 5,1s
i=0
while [ $i -lt 300 ]; do
	/usr/bin/true vm-burst
	i=$((i + 1))
done
expect_event '.process_throttle.type == "THROTTLE_START"'
agent_status
held=$(jq '.counters.kernel_throttled_exec' "$STATUS")
[ "$held" -gt 0 ] || fail "no exec held back by --cgroup-rate (kernel_throttled_exec $held)"
info "execs held back: $held"
# quiet, not polling: clones, execs and exits all count in the rate now, and the poll loop's
# own jq and sed (every 0.2 s) would keep the cgroup over 5/s; the stop comes after 5 s
# below the rate
sleep 7
expect_event '.process_throttle.type == "THROTTLE_STOP"'

# clones count in the rate too: subshells fork without exec
i=0
while [ $i -lt 300 ]; do
	( : )
	i=$((i + 1))
done
agent_status
clones=$(jq '.counters.kernel_throttled_clone' "$STATUS")
[ "$clones" -gt 0 ] || fail "no clone held back by --cgroup-rate (kernel_throttled_clone $clones)"
info "clones held back: $clones"

stop_agent || fail "vigild exited $AGENT_RC on SIGTERM, expected 0"
pass

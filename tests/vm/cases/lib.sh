# lib.sh - sourced by every vm case (busybox sh): verdicts, the agent, assertions on events.
#
#   . "$(dirname "$0")/lib.sh"
#   start_agent                       # vigild + a bus subscriber, waits until it answers status
#   expect_event '.process_exec.process.binary == "/usr/bin/true"'
#   stop_agent || fail "vigild exited $AGENT_RC"
#   pass
#
# A case ends with exactly one verdict: pass, fail REASON or skip REASON (a failure in CI).
# Each prints "VMTEST <case> PASS|FAIL|SKIP ..." on the console, the line the runner judges.

VMTEST_CASE=$(basename "$0" .sh)
[ -r /etc/vmtest/env ] && . /etc/vmtest/env	# VMTEST_BENCH_* passed from the host
VMTEST_RESULTS=${VMTEST_RESULTS:-/run/vmtest}
WORK=/tmp/vmtest/$VMTEST_CASE		# this case's scratch directory
mkdir -p "$WORK" "$VMTEST_RESULTS"

BUS=ipc:///run/vigil/events.sock
CONTROL=ipc:///run/vigil/control.sock
EVENTS=$WORK/events.json		# JSON lines the agent wrote itself (--export-file)
BUS_EVENTS=$WORK/bus.json		# JSON lines a `vigil getevents` subscriber received
STATUS=$WORK/status.json		# `vigil status -o json`, taken by start_agent and agent_status
AGENT_LOG=$WORK/vigild.log		# the agent's stdout and stderr
AGENT_PID= SUB_PID= AGENT_RC= MATCH=

# --- messages and verdicts ----------------------------------------------------------------

say() { echo "[$VMTEST_CASE] $*"; }

# info TEXT: a line the runner repeats in its summary (what the guest saw, e.g. probe results)
info() { echo "VMTEST $VMTEST_CASE INFO $*"; }

verdict() {	# verdict PASS|FAIL|SKIP REASON: the one line the runner judges, written once
	local why
	[ -s "$VMTEST_RESULTS/$VMTEST_CASE" ] && return 0	# the first verdict stands
	why=$(printf '%s' "$2" | tr -s '\n\t ' '   ' | cut -c1-400)
	echo "$1 $why" >"$VMTEST_RESULTS/$VMTEST_CASE"
	echo "VMTEST $VMTEST_CASE $1${why:+ $why}"
}

pass() {
	verdict PASS "$*"
	exit 0
}

fail() {
	say "FAILED: $*"
	if [ -s "$AGENT_LOG" ]; then
		say "--- vigild log (last 30 lines)"
		tail -n 30 "$AGENT_LOG"
	fi
	for f in "$EVENTS" "$BUS_EVENTS"; do
		[ -e "$f" ] && say "--- $(wc -l <"$f") events in $f"
	done
	verdict FAIL "$*"
	exit 1
}

skip() {
	[ -n "$CI" ] && fail "would skip, but skipping is not allowed in CI: $*"
	verdict SKIP "$*"
	exit 0
}

# --- processes ----------------------------------------------------------------------------

now() { date +%s; }

# alive PID: running (a zombie is not)
alive() {
	[ -r "/proc/$1/stat" ] || return 1
	[ "$(sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# expect_rc WANT CMD...: run CMD, fail unless it exits WANT (137 = killed by SIGKILL)
expect_rc() {
	local want=$1 rc
	shift
	"$@"
	rc=$?
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want"
}

cleanup() {
	[ -n "$AGENT_PID" ] && kill -KILL "$AGENT_PID" 2>/dev/null
	[ -n "$SUB_PID" ] && kill -KILL "$SUB_PID" 2>/dev/null
}
trap cleanup EXIT

# --- the agent ----------------------------------------------------------------------------

# start_agent [VIGILD ARGS...]: start a subscriber on the bus, then vigild with this case's bus,
# control socket and export file (plus ARGS); wait until it answers `vigil status` (the
# answer is left in $STATUS). VMTEST_AGENT_TIMEOUT (default 90) bounds the wait.
# No policy is loaded unless ARGS ask (--tracing-policy FILE, --tracing-policy-dir DIR): the
# agent's default directory would find /opt/vigil/rules/policies, the shipped ones.
start_agent() {
	local limit=${VMTEST_AGENT_TIMEOUT:-90} t0
	case " $* " in
	*" --tracing-policy-dir"*) ;;
	*) set -- --tracing-policy-dir "" "$@" ;;
	esac
	mkdir -p /run/vigil
	: >"$EVENTS"
	vigil getevents -o json --color never --bus "$BUS" >"$BUS_EVENTS" 2>"$WORK/getevents.err" &
	SUB_PID=$!
	t0=$(now)
	vigild --bus "$BUS" --control "$CONTROL" --node-name vm --export-file "$EVENTS" "$@" >"$AGENT_LOG" 2>&1 &
	AGENT_PID=$!
	while ! vigil status --control "$CONTROL" -o json >"$STATUS" 2>/dev/null; do
		if ! alive "$AGENT_PID"; then
			wait "$AGENT_PID"
			AGENT_RC=$?
			AGENT_PID=
			fail "vigild exited $AGENT_RC before it answered status"
		fi
		[ $(($(now) - t0)) -ge "$limit" ] && fail "vigild did not answer status within $limit s"
		sleep 0.2
	done
	sleep 0.3	# the subscriber (re)connects within nanomsg's 100 ms interval
	say "vigild ready after $(($(now) - t0)) s (pid $AGENT_PID)"
}

# add_policy FILE [-m enforce|monitor]: load a TracingPolicy into the running agent, or fail
add_policy() {
	vigil tracingpolicy add "$@" --control "$CONTROL" >"$WORK/policy.out" 2>&1 ||
		fail "vigil tracingpolicy add $* failed: $(cat "$WORK/policy.out")"
	say "policy $1 added"
}

# agent_status: refresh $STATUS from the running agent
agent_status() {
	vigil status --control "$CONTROL" -o json >"$STATUS" || fail "vigil status failed"
}

# mechanisms_missing NAME...: print "NAME: reason" for each NAME the agent's probe did not find
# usable (needs $STATUS); prints nothing when all are ok
mechanisms_missing() {
	jq -r '. as $s | $ARGS.positional[] as $m
		| first(($s.mechanisms[] | select(.name == $m)), {name: $m, ok: false, reason: "not reported"})
		| select(.ok != true) | .name + ": " + .reason' "$STATUS" --args "$@" 2>/dev/null ||
		echo "$*: no mechanisms in $STATUS"
}

# mechanism_ok NAME: the agent's probe found mechanism NAME usable
mechanism_ok() {
	[ -z "$(mechanisms_missing "$1")" ]
}

# require_mechanism NAME...: skip the case (fail in CI) unless every NAME probed ok
require_mechanism() {
	local missing
	missing=$(mechanisms_missing "$@")
	[ -z "$missing" ] || skip "mechanisms not available: $missing"
}

# stop_agent: SIGTERM vigild, wait up to 30 s (then SIGKILL), stop the subscriber.
# Sets AGENT_RC to the agent's exit status and returns it.
stop_agent() {
	local t0
	[ -n "$AGENT_PID" ] || return 0
	t0=$(now)
	kill -TERM "$AGENT_PID" 2>/dev/null
	while alive "$AGENT_PID" && [ $(($(now) - t0)) -lt 30 ]; do
		sleep 0.1
	done
	alive "$AGENT_PID" && { say "vigild ignored SIGTERM for 30 s; killing it"; kill -KILL "$AGENT_PID"; }
	wait "$AGENT_PID"
	AGENT_RC=$?
	AGENT_PID=
	if [ -n "$SUB_PID" ]; then
		kill -TERM "$SUB_PID" 2>/dev/null
		wait "$SUB_PID"
		SUB_PID=
	fi
	return "$AGENT_RC"
}

# --- events -------------------------------------------------------------------------------
# FILTER is a jq boolean expression over one event, e.g.
#   '.process_exit.process.binary == "/usr/bin/true" and .process_exit.status == 3'
# Events are read from $EVENTS unless -f FILE is given ($BUS_EVENTS: what the bus delivered).
# A filter that errors on an event (a missing key piped into test(), say) counts as false.

select_events() {	# select_events FILE FILTER: print the matching events, one a line
	jq -cR "fromjson? | select(try ($2) catch false)" "$1" 2>"$WORK/jq.err"
}

filter_checked() {	# after select_events in a pipeline: fail on a filter jq did not compile
	[ -s "$WORK/jq.err" ] && fail "jq rejected the filter '$1': $(head -c 300 "$WORK/jq.err")"
	return 0
}

# wait_event [-f FILE] [-t SECONDS] FILTER: wait (default 20 s) until an event matches;
# the first match is left in $MATCH. Returns 1 on timeout.
wait_event() {
	local file=$EVENTS o OPTIND=1 t0
	WAIT_LIMIT=${VMTEST_EVENT_TIMEOUT:-20}
	while getopts f:t: o; do
		case $o in f) file=$OPTARG ;; t) WAIT_LIMIT=$OPTARG ;; *) fail "wait_event: bad option" ;; esac
	done
	shift $((OPTIND - 1))
	WAIT_FILTER=$1
	t0=$(now)
	while :; do
		MATCH=$(select_events "$file" "$1" | sed -n 1p)
		filter_checked "$1"
		[ -n "$MATCH" ] && return 0
		[ $(($(now) - t0)) -ge "$WAIT_LIMIT" ] && return 1
		sleep 0.2
	done
}

# expect_event [-f FILE] [-t SECONDS] FILTER: as wait_event, but fail the case on timeout
expect_event() {
	wait_event "$@" || fail "no event matching '$WAIT_FILTER' within $WAIT_LIMIT s"
	say "matched: $(echo "$MATCH" | cut -c1-300)"
}

# expect_no_event [-f FILE] [-t SETTLE] FILTER: after SETTLE seconds (default 2), no event matches
expect_no_event() {
	local file=$EVENTS settle=2 o OPTIND=1 hit
	while getopts f:t: o; do
		case $o in f) file=$OPTARG ;; t) settle=$OPTARG ;; *) fail "expect_no_event: bad option" ;; esac
	done
	shift $((OPTIND - 1))
	sleep "$settle"
	hit=$(select_events "$file" "$1" | sed -n 1p)
	filter_checked "$1"
	[ -z "$hit" ] || fail "unexpected event matching '$1': $(echo "$hit" | cut -c1-300)"
}

# count_events [-f FILE] FILTER: print how many events match
count_events() {
	local file=$EVENTS
	if [ "$1" = -f ]; then
		file=$2
		shift 2
	fi
	local n
	n=$(select_events "$file" "$1" | wc -l)
	filter_checked "$1"
	echo "$n"
}

#!/bin/sh
# 50_policy_corpus - scripts/policy-corpus.sh on the stock kernel: shipped policies load
# through it (the tool's own check), and when the runner was given a corpus (env
# VIGIL_VM_CORPUS, e.g. Tetragon's example policies) its verdict per file and the total, in
# the environment those examples assume (files at the paths they name), and that the ones
# needing that environment fire.
# vm-bin: /bin/bash
# vm-timeout: 1800
. "$(dirname "$0")/lib.sh"

command -v policy-corpus.sh >/dev/null || fail "policy-corpus.sh is not in the guest"
# The tool's own check on three shipped policies (one per hook family). That every shipped
# policy loads on this kernel is 12_shipped_policies' job; with a corpus, all of them again.
mkdir -p "$WORK/shipped"
if [ -d /opt/vigil/corpus ]; then
	cp /opt/vigil/rules/policies/*.yaml "$WORK/shipped/"
else
	for f in monitor-sensitive-files kernel-module-load exec-from-tmp; do
		cp "/opt/vigil/rules/policies/$f.yaml" "$WORK/shipped/" || fail "no shipped policy $f"
	done
fi
policy-corpus.sh "$WORK/shipped" >"$WORK/shipped.txt" 2>&1
cat "$WORK/shipped.txt"
total=$(sed -n 's/^TOTAL: \([0-9]*\) files, \([0-9]*\) load.*/\1 \2/p' "$WORK/shipped.txt")
want=$(ls "$WORK/shipped"/*.yaml | wc -l)
[ "$total" = "$want $want" ] || fail "shipped policies: '$total' (files, loaded) of $want: $(grep ^REFUSED "$WORK/shipped.txt" | head -3)"
[ -d /opt/vigil/corpus ] || pass

# The machine Tetragon's examples assume: a /lib64/libc.so.6 (uprobe-binaries), the host's
# /proc at /procRoot as in Tetragon's container (uprobe-host), and its tester programs at the
# paths the USDT examples name, here our own programs with the same probes (tests/vm/progs).
ln -sf /usr/lib/x86_64-linux-gnu/libc.so.6 /usr/lib64/libc.so.6
ln -sfn /proc /procRoot
testers=/home/jolsa/tetragon/contrib/tester-progs
mkdir -p "$testers"
cp /opt/vigil/tests/vm/tg_usdt "$testers/usdt"
cp /opt/vigil/tests/host/usdt_set_target "$testers/usdt-override"

policy-corpus.sh /opt/vigil/corpus 2>&1 | tee "$WORK/corpus.txt" | sed 's/^/CORPUS /'
info "$(tail -n 1 "$WORK/corpus.txt")"
grep -q '^TOTAL: ' "$WORK/corpus.txt" || fail "the corpus tool did not finish"

# ...and those examples behave: each loaded alone, triggered, its event checked
corpus_file() {	# corpus_file NAME: the example's path in the corpus
	find /opt/vigil/corpus -name "$1" | sed -n 1p
}
trigger() {	# trigger EXAMPLE FILTER CMD...: load EXAMPLE, run CMD, expect an event, unload it
	local file name
	file=$(corpus_file "$1")
	[ -n "$file" ] || fail "the corpus has no $1"
	name=$(sed -n 's/^  name: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$file" | sed -n 1p)
	add_policy "$file"
	shift
	filter=$1
	shift
	"$@" >/dev/null 2>&1
	expect_event "$filter"
	vigil tracingpolicy delete "$name" --control "$CONTROL" >/dev/null || fail "cannot delete $name"
}
start_agent
trigger usdt.yaml '.process_usdt.provider == "test" and .process_usdt.name == "usdt3"
	and .process_usdt.args[0].int_arg == 7 and (.process_usdt.args[1].long_arg | tostring) == "72623859790382856"' "$testers/usdt"
trigger uprobe-binaries.yaml '.process_uprobe.symbol == "malloc" and .process_uprobe.path == "/lib64/libc.so.6"
	and .process_uprobe.process.binary == "/usr/bin/bash"' /usr/bin/bash -c true
trigger uprobe-host.yaml '.process_uprobe.symbol == "_start" and .process_uprobe.path == "/procRoot/1/root/usr/bin/bash"
	and .process_uprobe.process.binary == "/usr/bin/bash"' /usr/bin/bash -c true
# usdt-set: the tester exits with its first argument, which Set writes (32)
add_policy "$(corpus_file usdt-set.yaml)"
"$testers/usdt-override" >/dev/null
rc=$?
[ "$rc" = 32 ] || fail "usdt-set.yaml: the tester's argument was not set (exit $rc)"
expect_event '.process_usdt.provider == "tetragon" and .process_usdt.name == "test_4B" and .process_usdt.action == "KPROBE_ACTION_SET"'
stop_agent || fail "vigild exited $AGENT_RC"
pass

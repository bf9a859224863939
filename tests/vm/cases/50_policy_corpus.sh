#!/bin/sh
# 50_policy_corpus - scripts/policy-corpus.sh on the stock kernel: shipped policies load
# through it (the tool's own check), and when the runner was given a corpus (env
# VIGIL_VM_CORPUS, e.g. Tetragon's example policies) its verdict per file and the total.
# vm-bin: /bin/bash
# vm-timeout: 500
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
if [ -d /opt/vigil/corpus ]; then
	policy-corpus.sh /opt/vigil/corpus >"$WORK/corpus.txt" 2>&1
	sed 's/^/CORPUS /' "$WORK/corpus.txt"
	info "$(tail -n 1 "$WORK/corpus.txt")"
	grep -q '^TOTAL: ' "$WORK/corpus.txt" || fail "the corpus tool did not finish"
fi
pass

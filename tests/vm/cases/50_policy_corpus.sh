#!/bin/sh
# 50_policy_corpus - scripts/policy-corpus.sh on the stock kernel: every shipped policy loads
# through it (the tool's own check), and when the runner was given a corpus (env
# VIGIL_VM_CORPUS, e.g. Tetragon's example policies) its verdict per file and the total.
# vm-bin: /bin/bash
# vm-timeout: 500
. "$(dirname "$0")/lib.sh"

command -v policy-corpus.sh >/dev/null || fail "policy-corpus.sh is not in the guest"
policy-corpus.sh /opt/vigil/rules/policies >"$WORK/shipped.txt" 2>&1
cat "$WORK/shipped.txt"
total=$(sed -n 's/^TOTAL: \([0-9]*\) files, \([0-9]*\) load.*/\1 \2/p' "$WORK/shipped.txt")
want=$(ls /opt/vigil/rules/policies/*.yaml | wc -l)
[ "$total" = "$want $want" ] || fail "shipped policies: '$total' (files, loaded) of $want: $(grep ^REFUSED "$WORK/shipped.txt" | head -3)"
if [ -d /opt/vigil/corpus ]; then
	policy-corpus.sh /opt/vigil/corpus >"$WORK/corpus.txt" 2>&1
	sed 's/^/CORPUS /' "$WORK/corpus.txt"
	info "$(tail -n 1 "$WORK/corpus.txt")"
	grep -q '^TOTAL: ' "$WORK/corpus.txt" || fail "the corpus tool did not finish"
fi
pass

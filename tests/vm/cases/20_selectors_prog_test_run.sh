#!/bin/sh
# 20_selectors_prog_test_run - the BPF selector library (bpf/lib/selectors.h) on Debian 12's
# verifier: tests/unit/test_selectors_bpf loads every operator and selector kind compiled by
# vigil and runs them with BPF_PROG_TEST_RUN, as the unit lane does on our 6.18 machines.
# SubString is refused there with its reason (no bpf_strnstr on 6.1); the test checks that.
. "$(dirname "$0")/lib.sh"

T=/opt/vigil/tests/unit/test_selectors_bpf
[ -x "$T" ] || fail "$T is not in the initramfs (build the unit tests)"
CMOCKA_MESSAGE_OUTPUT=stdout "$T" >"$WORK/selectors.out" 2>&1
rc=$?
info "$(grep -c '^\[       OK \]' "$WORK/selectors.out") selector tests passed on $(uname -r)"
if [ "$rc" -ne 0 ]; then
	grep -E 'FAILED|ERROR|error' "$WORK/selectors.out" | head -n 20
	fail "test_selectors_bpf exited $rc"
fi
pass

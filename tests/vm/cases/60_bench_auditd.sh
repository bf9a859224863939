#!/bin/sh
# 60_bench_auditd - the syscall storms of tests/bench/bench_storms.py inside the guest, small:
# none, floor, bpftrace (left out: not in the guest), vigil bare, vigil default, then auditd,
# all of its rounds last (once enabled, audit costs every later process until reboot; this
# guest is thrown away, the shared host never runs it). A measurement, not a test: it runs
# only with VIGIL_VM_BENCH=1 and prints the table on the console (tests/bench/README.md).
# VMTEST_BENCH_CONDITIONS / _STORMS select, VMTEST_BENCH_PROGSTATS=1 adds the kernel time per
# program (and the default configuration's `vigil tp list`); under the runner's --icount the
# guest's times are counts of its instructions.
# vm-optin: VIGIL_VM_BENCH
# vm-python: /usr/bin/python3
# vm-deb: auditd libauparse0 libwrap0
# vm-build: tests/bench/getppid_storm tests/bench/open_storm tests/bench/connect_storm
# vm-build: tests/bench/exec_storm tests/bench/tiny tests/bench/floor_hook
# vm-bin: bpftool
# vm-src: tests/bench/bench_storms.py tests/bench/progstats.py tests/host/vigilhost.py
# vm-timeout: 1500
. "$(dirname "$0")/lib.sh"

OPENS=${VMTEST_BENCH_OPENS:-50000}
ROUNDS=${VMTEST_BENCH_ROUNDS:-3}
CONDITIONS=${VMTEST_BENCH_CONDITIONS:-none,floor,bpftrace,bare,default,auditd}
STORMS=${VMTEST_BENCH_STORMS:-other,open_out,open_in,connect,exec}
PROGSTATS=
[ "${VMTEST_BENCH_PROGSTATS:-0}" = 1 ] && PROGSTATS=--progstats
# bench_storms runs vigild and vigil from BUILD/core/cli
mkdir -p /opt/vigil/build/core/cli
ln -sf /opt/vigil/bin/vigild /opt/vigil/bin/vigil /opt/vigil/build/core/cli/
mkdir -p /boot		# write-etc-boot's other directory, watched by auditd as on a host
[ -e /etc/shadow ] || { echo 'root:*:20000:0:99999:7:::' >/etc/shadow && chmod 640 /etc/shadow; }	# open_in opens it
set -o pipefail
python3 /opt/vigil/tests/bench/bench_storms.py --build /opt/vigil/build --opens "$OPENS" --rounds "$ROUNDS" \
	--storms "$STORMS" --conditions "$CONDITIONS" $PROGSTATS \
	--audit-ok --ready-timeout 600 2>&1 | tee "$WORK/bench.out"
rc=$?
[ "$rc" = 0 ] || fail "bench_storms.py exited $rc: $(tail -5 "$WORK/bench.out")"
case ",$CONDITIONS," in *,auditd,*)
	grep -q ' auditd ' "$WORK/bench.out" || fail "no auditd row in the table";;
esac
clock="wall clock"
[ "$(cat /etc/vmtest/icount 2>/dev/null)" = 1 ] && clock="icount: guest times are instruction counts"
info "$(uname -r), $OPENS opens, $ROUNDS rounds, $clock"
pass

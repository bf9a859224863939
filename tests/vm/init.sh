#!/bin/sh
# init.sh - /init of the vm lane's guest (busybox sh): mount what BPF work needs, run each case
# named in /etc/vmtest/cases, report "VMTEST ..." lines on the serial console, power off.
# Packed by run_vm_tests.py, which reads those lines; the protocol is in tests/vm/README.md.

/usr/bin/busybox --install -s
export PATH=/opt/vigil/bin:/opt/vigil/tests/vm:/opt/vigil/tests/host:/usr/sbin:/usr/bin
export HOME=/root TERM=dumb LANG=C

fsmount() {	# fsmount TYPE DIR [OPTIONS]
	mkdir -p "$2"
	mount -t "$1" ${3:+-o "$3"} "$1" "$2" || echo "VMTEST init INFO cannot mount $1 at $2"
}
fsmount proc /proc
fsmount sysfs /sys
fsmount devtmpfs /dev
fsmount devpts /dev/pts
fsmount tmpfs /dev/shm mode=1777
fsmount tmpfs /run mode=0755
fsmount tmpfs /tmp mode=1777
# the host kernel leaves these to the agent; here they are mounted like a distro's systemd does
fsmount bpf /sys/fs/bpf mode=0700
fsmount tracefs /sys/kernel/tracing
fsmount debugfs /sys/kernel/debug
fsmount securityfs /sys/kernel/security
fsmount cgroup2 /sys/fs/cgroup
hostname vm
ip link set lo up || echo "VMTEST init INFO cannot bring up lo"

export VMTEST_RESULTS=/run/vmtest
mkdir -p "$VMTEST_RESULTS"
if [ "$(cat /etc/vmtest/ci)" = 1 ]; then
	export CI=true	# cases may not skip in CI
fi
while read -r mod; do
	[ -n "$mod" ] && { insmod "$mod" || echo "VMTEST init INFO insmod $mod failed"; }
done </etc/vmtest/modules

echo "VMTEST BOOTED $(cut -d' ' -f1 /proc/uptime)"
while read -r name; do
	[ -n "$name" ] || continue
	limit=$(awk -v n="$name" '$1 == n { print $2 }' /etc/vmtest/timeouts)
	echo "VMTEST $name START"
	# a case that hangs is killed; its verdict file tells whether it reported before it ended
	(cd /tmp && exec timeout -s KILL "${limit:-180}" sh "/opt/vigil/cases/$name.sh") </dev/null 2>&1
	rc=$?
	if [ ! -s "$VMTEST_RESULTS/$name" ]; then
		if [ "$rc" = 137 ]; then
			echo "VMTEST $name FAIL killed after ${limit:-180} s without a verdict"
		else
			echo "VMTEST $name FAIL exited $rc without a verdict"
		fi
	fi
	# nothing a case started outlives it: kill(-1) from pid 1 reaches every other process
	kill -KILL -1 2>/dev/null
	rm -rf /run/vigil
done </etc/vmtest/cases
echo "VMTEST DONE"

if [ "$(cat /etc/vmtest/shell)" = 1 ]; then
	echo "vm: shell on the console; 'poweroff -f' ends the run"
	setsid cttyhack sh
fi
sync
poweroff -f

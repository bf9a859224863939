/* kobjs - make the kernel build the objects the kernel-object argument types read, each
 * with a name the vm case looks for: a BPF array map "vg_vm_map" (key 4, value 8, 2
 * entries), a socket filter "vg_vm_prog" of 2 instructions (bpf_check sees its attr,
 * security_bpf_prog the program), a kprobe perf event on "vfs_read" (security_perf_event_alloc),
 * a capability check inside a new user namespace (cap_capable's user_namespace), and on
 * the serial tty one short line and one of 6000 bytes (tty_write's kiocb and iov_iter, and
 * maxData past a record's 4095 bytes). Exits 0 when every step worked. */
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int make_map(void)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 2;
	strcpy(a.map_name, "vg_vm_map");
	return bpf(BPF_MAP_CREATE, &a);
}

static int make_prog(void)
{
	struct bpf_insn insns[2] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insn_cnt = 2;
	a.insns = (unsigned long)insns;
	a.license = (unsigned long)"GPL";
	strcpy(a.prog_name, "vg_vm_prog");
	return bpf(BPF_PROG_LOAD, &a);
}

static int make_kprobe_event(void)
{
	struct perf_event_attr a;
	int type;
	FILE *f = fopen("/sys/bus/event_source/devices/kprobe/type", "r");

	if (!f || fscanf(f, "%d", &type) != 1)
		return -1;
	fclose(f);
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = (unsigned int)type;
	a.kprobe_func = (unsigned long)"vfs_read";
	a.probe_offset = 0;
	return (int)syscall(SYS_perf_event_open, &a, -1, 0, -1, 0);
}

int main(void)
{
	int map = make_map(), prog = make_prog(), ev = make_kprobe_event(), rc = 0;
	int tty = open("/dev/ttyS0", O_WRONLY | O_NOCTTY);

	if (map < 0 || prog < 0 || ev < 0) {
		fprintf(stderr, "kobjs: map %d prog %d perf event %d\n", map, prog, ev);
		rc = 1;
	}
	/* capability checks against a user namespace one level down: a new uts namespace
	 * owned by it, then its hostname */
	if (unshare(CLONE_NEWUSER) || unshare(CLONE_NEWUTS) || sethostname("x", 1))
		rc = 1;
	if (tty < 0 || write(tty, "vigil-kobjs-tty\n", 16) != 16)
		rc = 1;
	/* then one write past a record's 4095 bytes, for maxData: 6000 bytes, a pattern the
	 * case rebuilds, ending in a newline */
	{
		static char big[6000];
		size_t i;

		for (i = 0; i < sizeof(big) - 1; i++)
			big[i] = (char)('a' + i % 26);
		big[sizeof(big) - 1] = '\n';
		if (tty < 0 || write(tty, big, sizeof(big)) != (ssize_t)sizeof(big))
			rc = 1;
	}
	return rc;
}

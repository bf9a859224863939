/* probe.c - learn what this kernel permits by trying: load, attach, keep the errno. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "loader.h"
#include "loader_internal.h"
#include "probe.skel.h"

/* The kernel's own "operation not supported" (include/linux/errno.h), which the verifier
returns for attach types a kernel lacks; user-space errno.h does not define it. */
#ifndef ENOTSUPP
#define ENOTSUPP 524
#endif

static const char *const mech_names[VIGIL_MECH_COUNT] = {
	[VIGIL_MECH_TP_BTF] = "tp_btf",
	[VIGIL_MECH_RAW_TP] = "raw_tp",
	[VIGIL_MECH_TRACEPOINT] = "tracepoint",
	[VIGIL_MECH_KPROBE] = "kprobe",
	[VIGIL_MECH_FENTRY] = "fentry",
	[VIGIL_MECH_FMOD_RET] = "fmod_ret",
	[VIGIL_MECH_LSM] = "lsm",
	[VIGIL_MECH_CGROUP_SOCK_ADDR] = "cgroup_sock_addr",
	[VIGIL_MECH_RINGBUF] = "ringbuf",
	[VIGIL_MECH_SEND_SIGNAL] = "bpf_send_signal",
	[VIGIL_MECH_COMPAT_SYSCALLS] = "compat_syscalls",
};

/* What a failure most likely means, per mechanism and errno, as a user would want it said. */
static const char *explain(enum vigil_mech m, bool attaching, int err)
{
	switch (m) {
	case VIGIL_MECH_KPROBE:
		return attaching && err == ENOENT ? "kprobes not built into this kernel" : NULL;
	case VIGIL_MECH_FENTRY:
	case VIGIL_MECH_FMOD_RET:
		return err == EPERM || err == ENOTSUPP || err == EOPNOTSUPP ?
			       "BPF trampolines not permitted on this kernel" : NULL;
	case VIGIL_MECH_LSM:
		if (!attaching && (err == EPERM || err == ENOTSUPP))
			return "BPF trampolines not permitted on this kernel";
		return attaching ? "the bpf LSM is not enabled (lsm= boot parameter)" : NULL;
	case VIGIL_MECH_TRACEPOINT:
		return err == ENOENT ? "tracefs not mounted or tracepoint missing" : NULL;
	default:
		return NULL;
	}
}

static void set_result(struct vigil_mech_status *st, enum vigil_mech m, const char *step, int err)
{
	const char *why;

	st->ok = err == 0;
	st->err = err;
	if (!err) {
		snprintf(st->reason, sizeof(st->reason), "ok");
		return;
	}
	why = explain(m, !strcmp(step, "attach"), err);
	snprintf(st->reason, sizeof(st->reason), "%s: %s%s%s%s", step, strerror(err), why ? " (" : "",
		 why ? why : "", why ? ")" : "");
}

static struct bpf_program *probe_program(struct probe_bpf *skel, enum vigil_mech m)
{
	switch (m) {
	case VIGIL_MECH_TP_BTF: return skel->progs.probe_tp_btf;
	case VIGIL_MECH_RAW_TP: return skel->progs.probe_raw_tp;
	case VIGIL_MECH_TRACEPOINT: return skel->progs.probe_tracepoint;
	case VIGIL_MECH_KPROBE: return skel->progs.probe_kprobe;
	case VIGIL_MECH_FENTRY: return skel->progs.probe_fentry;
	case VIGIL_MECH_FMOD_RET: return skel->progs.probe_fmod_ret;
	case VIGIL_MECH_LSM: return skel->progs.probe_lsm;
	case VIGIL_MECH_CGROUP_SOCK_ADDR: return skel->progs.probe_cgroup_connect4;
	case VIGIL_MECH_SEND_SIGNAL: return skel->progs.probe_send_signal;
	default: return NULL;
	}
}

/* Load the one program for m, attach it unless loading is the whole test. */
static void probe_one(enum vigil_mech m, struct vigil_mech_status *st)
{
	struct probe_bpf *skel = probe_bpf__open();
	struct bpf_program *prog, *want;
	struct bpf_link *link = NULL;
	char cgpath[256];
	int err, cgfd = -1;

	if (!skel) {
		set_result(st, m, "open", errno);
		return;
	}
	want = probe_program(skel, m);
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, prog == want);
	err = probe_bpf__load(skel);
	if (err) {
		set_result(st, m, "load", -err);
		goto out;
	}
	if (m == VIGIL_MECH_SEND_SIGNAL) {
		set_result(st, m, "load", 0);	/* the helper passed the verifier */
		goto out;
	}
	if (m == VIGIL_MECH_CGROUP_SOCK_ADDR) {
		err = vigil_cgroup2_path(cgpath, sizeof(cgpath));
		if (err) {
			set_result(st, m, "cgroup2 mount", -err);
			goto out;
		}
		cgfd = open(cgpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cgfd < 0) {
			set_result(st, m, "open cgroup2", errno);
			goto out;
		}
		link = bpf_program__attach_cgroup(want, cgfd);
	} else {
		link = bpf_program__attach(want);
	}
	set_result(st, m, "attach", link ? 0 : errno);
out:
	bpf_link__destroy(link);
	if (cgfd >= 0)
		close(cgfd);
	probe_bpf__destroy(skel);
}

static void probe_ringbuf(struct vigil_mech_status *st)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "vg_probe_rb", 0, 0, 4096, NULL);

	set_result(st, VIGIL_MECH_RINGBUF, "map create", fd < 0 ? errno : 0);
	if (fd >= 0)
		close(fd);
}

#if defined(__x86_64__)
/* the child's exit status: the getpid's answer, SIGSEGV (the kernel refused the gate), SIGILL
 * (something below the program, valgrind's CPU, does not run int 0x80 at all, which says
 * nothing of the kernel), or another answer */
enum { COMPAT_RAN, COMPAT_WRONG_ANSWER, COMPAT_REFUSED, COMPAT_NOT_RUN };

static void refused(int sig)
{
	_exit(sig == SIGSEGV ? COMPAT_REFUSED : COMPAT_NOT_RUN);
}
#endif

/* A child makes a 32-bit getpid (int 0x80, i386 number 20). A kernel that runs no 32-bit
 * syscalls (ia32 emulation off at boot, or in this kind of guest) has no gate there, and the
 * child gets SIGSEGV, caught so that nothing is logged or dumped; the sysenter and 32-bit
 * syscall entries are off with it. Anything but that refusal (a fork that fails, SIGILL
 * under valgrind) counts as running them: the answer only ever lets a hook skip 32-bit
 * calls. */
static void probe_compat_syscalls(struct vigil_mech_status *st)
{
#if defined(__x86_64__)
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		struct sigaction sa = {.sa_handler = refused};
		long ret = 20;

		sigaction(SIGSEGV, &sa, NULL);
		sigaction(SIGILL, &sa, NULL);
		__asm__ volatile("int $0x80" : "+a"(ret) : : "memory", "r8", "r9", "r10", "r11");
		_exit(ret == (long)getpid() ? COMPAT_RAN : COMPAT_WRONG_ANSWER);
	}
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (pid < 0 || !(WIFEXITED(status) || WIFSIGNALED(status))) {
		snprintf(st->reason, sizeof(st->reason), "not probed (%s): taken as running them",
			 strerror(errno));
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == COMPAT_REFUSED) {
		st->err = ENOSYS;
		snprintf(st->reason, sizeof(st->reason), "int 0x80: SIGSEGV (this kernel runs no 32-bit syscalls)");
		return;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == COMPAT_RAN) {
		snprintf(st->reason, sizeof(st->reason), "ok");
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == COMPAT_NOT_RUN) {
		snprintf(st->reason, sizeof(st->reason), "int 0x80: SIGILL (not run by this CPU or emulator): taken as "
			 "running them");
	} else {
		snprintf(st->reason, sizeof(st->reason), "int 0x80 getpid: status 0x%x: taken as running them",
			 (unsigned int)status);
	}
#else
	snprintf(st->reason, sizeof(st->reason), "not probed on this architecture: taken as running them");
#endif
	st->ok = true;
}

const char *vigil_mech_name(enum vigil_mech m)
{
	return (unsigned int)m < VIGIL_MECH_COUNT ? mech_names[m] : "unknown";
}

int vigil_probe_kernel(struct vigil_probe_report *out)
{
	libbpf_print_fn_t old = loader_libbpf_print(true);
	int m;

	memset(out, 0, sizeof(*out));
	for (m = 0; m < VIGIL_MECH_COUNT; m++) {
		if (m == VIGIL_MECH_RINGBUF)
			probe_ringbuf(&out->mech[m]);
		else if (m == VIGIL_MECH_COMPAT_SYSCALLS)
			probe_compat_syscalls(&out->mech[m]);
		else
			probe_one(m, &out->mech[m]);
		pr_debug("probe %s: %s", mech_names[m], out->mech[m].reason);
	}
	libbpf_set_print(old);
	return 0;
}

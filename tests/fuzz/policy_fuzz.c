/* policy_fuzz.c - libFuzzer target for TracingPolicy YAML: the parser (core/policy, what
 * `vigil tracingpolicy add` and the control socket hand the agent) and, for a policy it
 * accepts, the compiler of every hook (core/sensors compile_hook: mechanism, arguments,
 * selectors into map keys), under two fixed probe reports: this project's 6.18 machines
 * (no kprobes, no trampolines) and a kernel that permits everything. Nothing is loaded.
 *
 * Tracepoint hooks read their fields from tracefs; tp_format_read is wrapped at link time
 * (-Wl,--wrap) to answer a fixed synthetic format, so the outcome depends on the input only.
 *
 * Properties besides memory safety: a refusal allocates nothing and says where and why
 * (a reason, a line); a compile refusal says why too.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensors/sensors_internal.h"

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "policy_fuzz: property violated: %s\n", what);
		abort();
	}
}

/* A syscalls:sys_enter_* style format: the common fields, the syscall number, six args. */
int __wrap_tp_format_read(const char *subsys, const char *event, struct tp_field *out, size_t max)
{
	static const struct tp_field fields[] = {
		{"common_type", "unsigned short", 0, 2, false, false},
		{"common_flags", "unsigned char", 2, 1, false, false},
		{"common_preempt_count", "unsigned char", 3, 1, false, false},
		{"common_pid", "int", 4, 4, true, false},
		{"__syscall_nr", "int", 8, 4, true, false},
		{"dfd", "int", 16, 8, false, false},
		{"filename", "const char *", 24, 8, false, false},
		{"flags", "int", 32, 8, false, false},
		{"mode", "umode_t", 40, 8, false, false},
		{"name", "__data_loc char[]", 48, 4, true, false},
		{"small", "short", 52, 2, true, false},
		{"comm", "char", 54, 16, false, true},
	};
	size_t n = sizeof(fields) / sizeof(fields[0]);

	if (!strcmp(event, "missing"))
		return -ENOENT;
	if (n > max)
		n = max;
	memcpy(out, fields, n * sizeof(*out));
	return (int)n;
}

static void probe_host(struct vigil_probe_report *p)
{
	memset(p, 0, sizeof(*p));
	p->mech[VIGIL_MECH_TP_BTF].ok = p->mech[VIGIL_MECH_RAW_TP].ok = p->mech[VIGIL_MECH_TRACEPOINT].ok = true;
	p->mech[VIGIL_MECH_CGROUP_SOCK_ADDR].ok = p->mech[VIGIL_MECH_RINGBUF].ok = true;
	p->mech[VIGIL_MECH_SEND_SIGNAL].ok = true;
	snprintf(p->mech[VIGIL_MECH_KPROBE].reason, sizeof(p->mech[0].reason), "attach: ENOENT");
	snprintf(p->mech[VIGIL_MECH_FENTRY].reason, sizeof(p->mech[0].reason), "load: EPERM");
	snprintf(p->mech[VIGIL_MECH_FMOD_RET].reason, sizeof(p->mech[0].reason), "load: EPERM");
	snprintf(p->mech[VIGIL_MECH_LSM].reason, sizeof(p->mech[0].reason), "load: EPERM");
}

static void probe_all(struct vigil_probe_report *p)
{
	int m;

	memset(p, 0, sizeof(*p));
	for (m = 0; m < VIGIL_MECH_COUNT; m++)
		p->mech[m].ok = true;
}

static void compile_all(const struct vigil_policy *p, const struct vigil_probe_report *probe)
{
	static const uint32_t host_ns[VIGIL_NS_COUNT] = {
		[VIGIL_NS_PID] = 4026531836u, [VIGIL_NS_MNT] = 4026531841u, [VIGIL_NS_USER] = 4026531837u,
	};
	struct vigil_policy_error err;
	struct compiled_hook *h = calloc(1, sizeof(*h));
	struct compile_ctx ctx = {
		.policy = p, .probe = probe, .host_ns = host_ns, .vmlinux = NULL, .mode = p->mode, .err = &err,
	};
	size_t i;

	check(h != NULL, "out of memory");
	for (i = 0; i < p->nhooks; i++) {
		memset(&err, 0, sizeof(err));
		/* compile_hook frees what it built when it fails */
		if (compile_hook(&ctx, i, h))
			check(err.reason[0] != '\0', "compile: a refusal without a reason");
		else
			compiled_hook_free(h);
	}
	free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vigil_probe_report host, all;
	struct vigil_policy_error err;
	struct vigil_policy *p = NULL;
	char msg[1024];
	int rc;

	memset(&err, 0, sizeof(err));
	rc = vigil_policy_parse("fuzz.yaml", (const char *)data, size, &p, &err);
	if (rc) {
		check(p == NULL, "parse: a refusal left a policy");
		check(rc == -EINVAL || rc == -ENOMEM, "parse: unexpected error");
		check(err.reason[0] != '\0', "parse: a refusal without a reason");
		vigil_policy_error_format(&err, msg, sizeof(msg));
		check(memchr(msg, '\0', sizeof(msg)) != NULL, "parse: message not terminated");
		return 0;
	}
	check(p != NULL && p->name != NULL, "parse: accepted without a name");
	probe_host(&host);
	probe_all(&all);
	compile_all(p, &host);
	compile_all(p, &all);
	vigil_policy_free(p);
	return 0;
}

/* probe_config.c - `vigil probe config`, as tetra's: the kernel configuration options BPF
 * tracing depends on, each as the running kernel was built (/proc/config.gz, else
 * /boot/config-RELEASE), one NAME=VALUE a line ("n" when not set). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include <zlib.h>

#include "cli.h"

/* what vigil's mechanisms (and Tetragon's) need, in the order a reader checks them */
static const char *const options[] = {
	"CONFIG_BPF", "CONFIG_BPF_SYSCALL", "CONFIG_BPF_JIT", "CONFIG_HAVE_EBPF_JIT", "CONFIG_BPF_EVENTS",
	"CONFIG_DEBUG_INFO_BTF", "CONFIG_DEBUG_INFO_BTF_MODULES", "CONFIG_TRACEPOINTS", "CONFIG_FTRACE",
	"CONFIG_FTRACE_SYSCALLS", "CONFIG_DYNAMIC_FTRACE", "CONFIG_FUNCTION_TRACER", "CONFIG_KPROBES",
	"CONFIG_KPROBE_EVENTS", "CONFIG_FPROBE", "CONFIG_UPROBES", "CONFIG_UPROBE_EVENTS", "CONFIG_BPF_LSM",
	"CONFIG_SECURITY", "CONFIG_CGROUPS", "CONFIG_CGROUP_BPF", "CONFIG_FUNCTION_ERROR_INJECTION",
	"CONFIG_BPF_KPROBE_OVERRIDE", "CONFIG_BPF_STREAM_PARSER", "CONFIG_NET_CLS_BPF", "CONFIG_FANOTIFY",
	"CONFIG_FANOTIFY_ACCESS_PERMISSIONS", "CONFIG_IMA",
};

int cli_probe_config(void)
{
	char values[VIGIL_ARRAY_SIZE(options)][64] = {{0}};
	char path[128], line[512], *eq;
	struct utsname u;
	size_t i, n;
	gzFile f;

	/* gzopen reads a plain file as it is, so /boot's uncompressed config goes the same way */
	f = gzopen("/proc/config.gz", "rb");
	if (!f && !uname(&u)) {
		snprintf(path, sizeof(path), "/boot/config-%s", u.release);
		f = gzopen(path, "rb");
	}
	if (!f) {
		fprintf(stderr, "vigil probe config: the kernel's configuration is in neither /proc/config.gz "
				"(CONFIG_IKCONFIG_PROC) nor /boot/config-RELEASE\n");
		return 1;
	}
	while (gzgets(f, line, sizeof(line))) {
		line[strcspn(line, "\n")] = '\0';
		eq = strchr(line, '=');
		if (strncmp(line, "CONFIG_", 7) || !eq)
			continue;
		n = (size_t)(eq - line);
		for (i = 0; i < VIGIL_ARRAY_SIZE(options); i++)
			if (strlen(options[i]) == n && !strncmp(line, options[i], n))
				snprintf(values[i], sizeof(values[i]), "%s", eq + 1);
	}
	gzclose(f);
	for (i = 0; i < VIGIL_ARRAY_SIZE(options); i++)
		printf("%s=%s\n", options[i], values[i][0] ? values[i] : "n");
	return 0;
}

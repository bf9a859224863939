/* names.c - the names events are rendered with: event types, signals, capabilities,
 * namespaces, process flags and policy actions, each a const table indexed or scanned in
 * order. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "events.h"

static const struct {
	enum vigil_event_type type;
	const char *name;	/* Tetragon's EventType enum name */
	const char *key;	/* the oneof field name: the JSON key */
	const char *shortname;	/* what users type on the command line */
} event_types[] = {
	{ VIGIL_EVENT_EXEC, "PROCESS_EXEC", "process_exec", "exec" },
	{ VIGIL_EVENT_EXIT, "PROCESS_EXIT", "process_exit", "exit" },
	{ VIGIL_EVENT_KPROBE, "PROCESS_KPROBE", "process_kprobe", "kprobe" },
	{ VIGIL_EVENT_TRACEPOINT, "PROCESS_TRACEPOINT", "process_tracepoint", "tracepoint" },
	{ VIGIL_EVENT_LOADER, "PROCESS_LOADER", "process_loader", "loader" },
	{ VIGIL_EVENT_UPROBE, "PROCESS_UPROBE", "process_uprobe", "uprobe" },
	{ VIGIL_EVENT_LSM, "PROCESS_LSM", "process_lsm", "lsm" },
	{ VIGIL_EVENT_THROTTLE, "PROCESS_THROTTLE", "process_throttle", "throttle" },
	{ VIGIL_EVENT_USDT, "PROCESS_USDT", "process_usdt", "usdt" },
	/* vigil's rule events (core/luahost) */
	{ VIGIL_EVENT_ALERT, "PROCESS_ALERT", "process_alert", "alert" },
	{ VIGIL_EVENT_RULE_ACTION, "RULE_ACTION", "rule_action", "action" },
	{ VIGIL_EVENT_RULE_STATUS, "RULE_STATUS", "rule_status", "rule" },
	/* the agent's policy directory (core/agent/policy_dir.c) */
	{ VIGIL_EVENT_POLICY_STATUS, "POLICY_STATUS", "policy_status", "policy" },
};

/* Linux x86-64 numbering, with the names golang.org/x/sys/unix.SignalName gives, so the
 * exit event's "signal" matches Tetragon's (6 is SIGABRT, not SIGIOT; 29 is SIGIO). */
static const char *const signal_names[] = {
	[1] = "SIGHUP",    [2] = "SIGINT",     [3] = "SIGQUIT",    [4] = "SIGILL",
	[5] = "SIGTRAP",   [6] = "SIGABRT",    [7] = "SIGBUS",     [8] = "SIGFPE",
	[9] = "SIGKILL",   [10] = "SIGUSR1",   [11] = "SIGSEGV",   [12] = "SIGUSR2",
	[13] = "SIGPIPE",  [14] = "SIGALRM",   [15] = "SIGTERM",   [16] = "SIGSTKFLT",
	[17] = "SIGCHLD",  [18] = "SIGCONT",   [19] = "SIGSTOP",   [20] = "SIGTSTP",
	[21] = "SIGTTIN",  [22] = "SIGTTOU",   [23] = "SIGURG",    [24] = "SIGXCPU",
	[25] = "SIGXFSZ",  [26] = "SIGVTALRM", [27] = "SIGPROF",   [28] = "SIGWINCH",
	[29] = "SIGIO",    [30] = "SIGPWR",    [31] = "SIGSYS",
};

/* Tetragon's CapabilitiesType enum names, which its JSON carries. Capability 1 is
 * "DAC_OVERRIDE" there, without the CAP_ prefix (api/v1/tetragon/capabilities.proto), and
 * real Tetragon output spells it so; we keep the wire name so consumers see the same list. */
static const char *const cap_names[] = {
	"CAP_CHOWN",		"DAC_OVERRIDE",		"CAP_DAC_READ_SEARCH",	"CAP_FOWNER",
	"CAP_FSETID",		"CAP_KILL",		"CAP_SETGID",		"CAP_SETUID",
	"CAP_SETPCAP",		"CAP_LINUX_IMMUTABLE",	"CAP_NET_BIND_SERVICE",	"CAP_NET_BROADCAST",
	"CAP_NET_ADMIN",	"CAP_NET_RAW",		"CAP_IPC_LOCK",		"CAP_IPC_OWNER",
	"CAP_SYS_MODULE",	"CAP_SYS_RAWIO",	"CAP_SYS_CHROOT",	"CAP_SYS_PTRACE",
	"CAP_SYS_PACCT",	"CAP_SYS_ADMIN",	"CAP_SYS_BOOT",		"CAP_SYS_NICE",
	"CAP_SYS_RESOURCE",	"CAP_SYS_TIME",		"CAP_SYS_TTY_CONFIG",	"CAP_MKNOD",
	"CAP_LEASE",		"CAP_AUDIT_WRITE",	"CAP_AUDIT_CONTROL",	"CAP_SETFCAP",
	"CAP_MAC_OVERRIDE",	"CAP_MAC_ADMIN",	"CAP_SYSLOG",		"CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND",	"CAP_AUDIT_READ",	"CAP_PERFMON",		"CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

/* Field names of Tetragon's Namespaces message, in enum vigil_ns_kind order. */
static const char *const ns_names[VIGIL_NS_COUNT] = {
	[VIGIL_NS_UTS] = "uts",
	[VIGIL_NS_IPC] = "ipc",
	[VIGIL_NS_MNT] = "mnt",
	[VIGIL_NS_PID] = "pid",
	[VIGIL_NS_PID_FOR_CHILDREN] = "pid_for_children",
	[VIGIL_NS_NET] = "net",
	[VIGIL_NS_TIME] = "time",
	[VIGIL_NS_TIME_FOR_CHILDREN] = "time_for_children",
	[VIGIL_NS_CGROUP] = "cgroup",
	[VIGIL_NS_USER] = "user",
};

/* Tetragon's KprobeAction enum (api/v1/tetragon/tetragon.proto), indexed by value. vigil
 * raises only some of them, but a record from a newer kernel side may carry any. */
static const char *const action_names[] = {
	"KPROBE_ACTION_UNKNOWN",	"KPROBE_ACTION_POST",		"KPROBE_ACTION_FOLLOWFD",
	"KPROBE_ACTION_SIGKILL",	"KPROBE_ACTION_UNFOLLOWFD",	"KPROBE_ACTION_OVERRIDE",
	"KPROBE_ACTION_COPYFD",		"KPROBE_ACTION_GETURL",		"KPROBE_ACTION_DNSLOOKUP",
	"KPROBE_ACTION_NOPOST",		"KPROBE_ACTION_SIGNAL",		"KPROBE_ACTION_TRACKSOCK",
	"KPROBE_ACTION_UNTRACKSOCK",	"KPROBE_ACTION_NOTIFYENFORCER",
	"KPROBE_ACTION_CLEANUPENFORCERNOTIFICATION",			"KPROBE_ACTION_SET",
};

/* In bit order, which is the order Tetragon prints them ("execve rootcwd clone"). */
static const struct {
	uint32_t bit;
	const char *name;
} flag_names[] = {
	{ VIGIL_PROC_EXECVE, "execve" },
	{ VIGIL_PROC_PROCFS, "procFS" },
	{ VIGIL_PROC_TRUNC_FILENAME, "truncFilename" },
	{ VIGIL_PROC_TRUNC_ARGS, "truncArgs" },
	{ VIGIL_PROC_MISS, "miss" },
	{ VIGIL_PROC_ERROR_FILENAME, "errorFilename" },
	{ VIGIL_PROC_ERROR_ARGS, "errorArgs" },
	{ VIGIL_PROC_ERROR_CWD, "errorCWD" },
	{ VIGIL_PROC_ROOTCWD, "rootcwd" },
	{ VIGIL_PROC_CLONE, "clone" },
	{ VIGIL_PROC_UNKNOWN, "unknown" },
	{ VIGIL_PROC_UNCACHED, "uncached" },
	{ VIGIL_PROC_NOPARENT, "noParent" },
	{ VIGIL_PROC_TRUNC_ENV, "truncEnvs" },
	{ VIGIL_PROC_ERROR_ENV, "errorEnvs" },
};

const char *vigil_event_type_name(enum vigil_event_type type)
{
	const char *name = NULL;
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(event_types); i++)
		if (event_types[i].type == type)
			name = event_types[i].name;
	return name;
}

const char *vigil_event_type_key(enum vigil_event_type type)
{
	const char *key = NULL;
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(event_types); i++)
		if (event_types[i].type == type)
			key = event_types[i].key;
	return key;
}

/* Case-insensitive: "PROCESS_EXEC" is the key in capitals, and users type either case. */
int vigil_event_type_parse(const char *s, enum vigil_event_type *out)
{
	int err = -EINVAL;
	size_t i;

	if (!s)
		goto out;
	for (i = 0; i < VIGIL_ARRAY_SIZE(event_types); i++) {
		if (!strcasecmp(s, event_types[i].key) || !strcasecmp(s, event_types[i].shortname)) {
			*out = event_types[i].type;
			err = 0;
			break;
		}
	}
out:
	return err;
}

const char *vigil_signal_name(int sig)
{
	/* real-time signals (32..64) have no name in Go's table either: the caller omits them */
	return sig > 0 && (size_t)sig < VIGIL_ARRAY_SIZE(signal_names) ? signal_names[sig] : NULL;
}

const char *vigil_cap_name(unsigned int cap)
{
	return cap < VIGIL_ARRAY_SIZE(cap_names) ? cap_names[cap] : NULL;
}

const char *vigil_ns_name(enum vigil_ns_kind kind)
{
	return (unsigned int)kind < VIGIL_NS_COUNT ? ns_names[kind] : NULL;
}

/* NULL past the end of Tetragon's enum, like the other name lookups here. */
const char *vigil_event_action_name(enum vigil_event_action a)
{
	return (unsigned int)a < VIGIL_ARRAY_SIZE(action_names) ? action_names[a] : NULL;
}

/* Whole names only: a name that does not fit is left out rather than cut, so the output
 * never carries a flag that does not exist. Unknown bits are ignored. */
size_t vigil_process_flags_format(uint32_t flags, char *out, size_t size)
{
	size_t len = 0, n, i;

	if (!size)
		return 0;
	for (i = 0; i < VIGIL_ARRAY_SIZE(flag_names); i++) {
		if (!(flags & flag_names[i].bit))
			continue;
		n = strlen(flag_names[i].name);
		if (len + (len ? 1 : 0) + n >= size)
			break;
		if (len)
			out[len++] = ' ';
		memcpy(out + len, flag_names[i].name, n);
		len += n;
	}
	out[len] = '\0';
	return len;
}

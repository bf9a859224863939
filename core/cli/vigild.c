/* vigild.c - the agent: foreground, stops cleanly on SIGINT/SIGTERM. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "agent/agent.h"
#include "bus/bus.h"
#include "common/common.h"
#include "export/export.h"
#include "metrics/metrics.h"
#include "cli.h"
#include "vigild_tls.h"

static struct vigil_agent *running;
/* A signal that came while the agent was still starting (loading BPF takes seconds): main
 * sees it once vigil_agent__new returns, instead of the agent running on regardless. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	if (sig == SIGHUP) {
		/* policies and Lua rules read again (core/agent/watch.c); one that comes during
		 * the start is not needed: the watch reads both directories once it runs */
		if (running)
			vigil_agent__reload(running);
		return;
	}
	stop_requested = 1;
	if (running)
		vigil_agent__stop(running);
}

/* Where the shipped policies and rules are when no option names them: a binary running from
 * its build tree (VIGIL_BUILD_TREE, set by core/cli/CMakeLists.txt) reads its checkout's
 * rules/, so scripts/run.sh and the tests never pick up an installed copy; any other binary
 * (the installed one) reads the install's sysconfdir (VIGIL_SYSCONF_DIR: /etc/vigil for the
 * package). A directory that is not there means none. */

/* Every hook holds a BPF object's maps, programs and links, ~20 descriptors: the shipped
 * policies with trampolines (an fentry dispatcher per hooked syscall besides) pass the 1024 a
 * service or init starts with by default. The agent waits with epoll, never select, so it
 * takes the hard limit the administrator allows (systemd's advice for such programs). */
static void raise_open_files(void)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) || r.rlim_cur >= r.rlim_max)
		return;
	r.rlim_cur = r.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &r))
		fprintf(stderr, "vigild: cannot raise the open-files limit to %llu: %s\n",
			(unsigned long long)r.rlim_max, strerror(errno));
}

/* The switches the agent reads from its environment (vigild(8) ENVIRONMENT) take "off" or
 * nothing: another value (a "0" or "no" meant as off) would be ignored, so it is refused.
 * 0 or 2. */
static int check_environment(void)
{
	static const char *const knobs[] = {"VIGIL_DISPATCHER", "VIGIL_PREFILTER"};
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(knobs); i++) {
		const char *v = getenv(knobs[i]);

		if (v && v[0] && strcmp(v, "off")) {
			fprintf(stderr, "vigild: %s=%s: the one value understood is \"off\" (unset or empty: the default)\n",
				knobs[i], v);
			return 2;
		}
	}
	return 0;
}

static const char *default_dir(const char *shipped, const char *installed)
{
	const char *dir = cli_in_build_tree() ? shipped : installed;

	return access(dir, R_OK) ? NULL : dir;
}

/* Long-only options of the export file and the metrics endpoint (core/export, core/metrics). */
enum {
	OPT_EXPORT_MAX_SIZE = 0x100,
	OPT_EXPORT_INTERVAL,
	OPT_EXPORT_BACKUPS,
	OPT_EXPORT_COMPRESS,
	OPT_EXPORT_PERM,
	OPT_EXPORT_ALLOW,
	OPT_EXPORT_DENY,
	OPT_FIELD_FILTERS,
	OPT_EXPORT_RATE,
	OPT_EXPORT_OWN,
	OPT_METRICS_SERVER,
	OPT_DENY_TTL,
	OPT_DENY_RATE,
	OPT_DENY_PROTECT,
	OPT_DENY_SYSTEM_FILES,
	OPT_PROCESS_CACHE_SIZE,
	OPT_METRICS_BINARY_LABELS,
	OPT_METRICS_NAMES,
	OPT_ANCESTORS,
	OPT_USERNAME,
	OPT_PROCESS_CRED,
	OPT_REDACTION,
	OPT_PROCESS_ENV,
	OPT_ENV_FILTER,
	OPT_ENV_MAX,
	OPT_CGROUP_RATE,
	OPT_CONTROL_GROUP,
	OPT_KEEP_ENFORCING,
	OPT_PIN_DIR,
	OPT_NO_CAP_DROP,
	OPT_CRI_ENDPOINT,
	OPT_RULE_DEADLINE,
	OPT_RULE_QUEUE,
	OPT_DEFAULT_POLICY_MODE,
	OPT_JOURNAL_DIR,
	OPT_JOURNAL_MAX,
	OPT_DNS_LOOKUP_SERVER,
	OPT_GET_URL_CA_FILE,
	OPT_WAKEUP_US,
};

/* A value given as @FILE is the file's contents (read once, kept until exit). */
static const char *value_or_file(const char *v)
{
	static char *kept[8];
	static size_t nkept;
	FILE *f;
	char *text = NULL;
	size_t len = 0;

	if (v[0] != '@')
		return v;
	if (nkept == VIGIL_ARRAY_SIZE(kept))
		return NULL;
	f = fopen(v + 1, "re");
	if (!f)
		return NULL;
	if (getdelim(&text, &len, '\0', f) < 0) {
		free(text);
		text = strdup("");
	}
	fclose(f);
	kept[nkept++] = text;
	return text;
}

/* --redaction-filters: compiled once, kept for the agent's life; 0, or 2 after the reason */
static int redaction_option(const char *arg, const struct vigil_redaction **out)
{
	static struct vigil_redaction *kept;
	struct vigil_export_error err = {0};
	const char *text = value_or_file(arg);

	if (!text) {
		fprintf(stderr, "vigild: --redaction-filters: cannot read %s\n", arg);
		return 2;
	}
	vigil_redaction__free(kept);
	kept = vigil_redaction__new_json(text, &err);
	if (!kept) {
		fprintf(stderr, "vigild: %s (filter %d, line %d)\n", err.reason[0] ? err.reason : strerror(errno),
			err.index, err.line);
		return 2;
	}
	*out = kept;
	return 0;
}

static const struct option options[] = {
	{"bus", required_argument, NULL, 'b'},
	{"control", required_argument, NULL, 'c'},
	{"control-group", required_argument, NULL, OPT_CONTROL_GROUP},
	{"output", required_argument, NULL, 'o'},
	{"color", no_argument, NULL, 'C'},
	{"export-file", required_argument, NULL, 'e'},
	{"export-filename", required_argument, NULL, 'e'},	/* Tetragon's spelling */
	{"export-file-max-size-mb", required_argument, NULL, OPT_EXPORT_MAX_SIZE},
	{"export-file-rotation-interval", required_argument, NULL, OPT_EXPORT_INTERVAL},
	{"export-file-max-backups", required_argument, NULL, OPT_EXPORT_BACKUPS},
	{"export-file-compress", no_argument, NULL, OPT_EXPORT_COMPRESS},
	{"export-file-perm", required_argument, NULL, OPT_EXPORT_PERM},
	{"export-allowlist", required_argument, NULL, OPT_EXPORT_ALLOW},
	{"export-denylist", required_argument, NULL, OPT_EXPORT_DENY},
	{"field-filters", required_argument, NULL, OPT_FIELD_FILTERS},
	{"export-rate-limit", required_argument, NULL, OPT_EXPORT_RATE},
	{"export-vigil-events", required_argument, NULL, OPT_EXPORT_OWN},
	{"metrics-server", required_argument, NULL, OPT_METRICS_SERVER},
	{"deny-ttl", required_argument, NULL, OPT_DENY_TTL},
	{"deny-rate", required_argument, NULL, OPT_DENY_RATE},
	{"deny-protect", required_argument, NULL, OPT_DENY_PROTECT},
	{"deny-system-files", no_argument, NULL, OPT_DENY_SYSTEM_FILES},
	{"metrics-binary-labels", required_argument, NULL, OPT_METRICS_BINARY_LABELS},
	{"metrics-names", required_argument, NULL, OPT_METRICS_NAMES},
	{"enable-ancestors", required_argument, NULL, OPT_ANCESTORS},
	{"username-metadata", required_argument, NULL, OPT_USERNAME},
	{"enable-process-cred", no_argument, NULL, OPT_PROCESS_CRED},
	{"redaction-filters", required_argument, NULL, OPT_REDACTION},
	{"enable-process-environment-variables", no_argument, NULL, OPT_PROCESS_ENV},
	{"filter-environment-variables", required_argument, NULL, OPT_ENV_FILTER},
	{"process-environment-max", required_argument, NULL, OPT_ENV_MAX},
	{"cgroup-rate", required_argument, NULL, OPT_CGROUP_RATE},
	{"rb-size", required_argument, NULL, 'r'},
	{"process-cache-size", required_argument, NULL, OPT_PROCESS_CACHE_SIZE},
	{"wakeup-batch", required_argument, NULL, 'w'},
	{"poll-ms", required_argument, NULL, 'p'},
	{"wakeup-us", required_argument, NULL, OPT_WAKEUP_US},
	{"node-name", required_argument, NULL, 'n'},
	{"tracing-policy", required_argument, NULL, 't'},
	{"tracing-policy-dir", required_argument, NULL, 'T'},
	{"rules-dir", required_argument, NULL, 'R'},
	{"default-policy-mode", required_argument, NULL, OPT_DEFAULT_POLICY_MODE},
	{"keep-enforcing", no_argument, NULL, OPT_KEEP_ENFORCING},
	{"pin-dir", required_argument, NULL, OPT_PIN_DIR},
	{"no-cap-drop", no_argument, NULL, OPT_NO_CAP_DROP},
	{"cri-endpoint", required_argument, NULL, OPT_CRI_ENDPOINT},
	{"rule-deadline-ms", required_argument, NULL, OPT_RULE_DEADLINE},
	{"rule-queue-len", required_argument, NULL, OPT_RULE_QUEUE},
	{"journal-dir", required_argument, NULL, OPT_JOURNAL_DIR},
	{"journal-max-mb", required_argument, NULL, OPT_JOURNAL_MAX},
	{"dns-lookup-server", required_argument, NULL, OPT_DNS_LOOKUP_SERVER},
	{"get-url-ca-file", required_argument, NULL, OPT_GET_URL_CA_FILE},
	VIGILD_TLS_LONG_OPTIONS,
	{"debug", no_argument, NULL, 'd'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static void usage_agent(FILE *f)
{
	fprintf(f,
		"usage: vigild [options]\n"
		"  -b, --bus URL            event bus (default %s)\n"
		"  -c, --control URL        control socket (default %s)\n"
		"      --control-group NAME members may run read-only control commands (status, metrics,\n"
		"                           policy_list, rules_list); the rest stay root's (default: root only)\n"
		"  -o, --output FORMAT      print events: none, json, compact (default none)\n"
		"      --color              colour compact output\n"
		"  -e, --export-file PATH   append events as JSON lines (rotated: see below)\n"
		"      --rb-size BYTES      ring buffer size, power of two (default 4194304)\n"
		"      --wakeup-batch N     records per reader wake-up, 1-4096 (default 64)\n"
		"      --wakeup-us N        a record also wakes the reader when its CPU's last wake-up is\n"
		"                           N us old, 0-1000000 (default 2000; 0: by --wakeup-batch alone)\n"
		"      --poll-ms N          reader latency bound in ms, 1-1000 (default 20)\n"
		"      --process-cache-size N  processes cached, 64-16777216 (default 65536); when full,\n"
		"                           entries are evicted (see README), no event is dropped\n"
		"      --node-name NAME     node name in events and exec_ids (default $NODE_NAME or hostname)\n"
		"      --tracing-policy FILE      load this policy at start (repeatable; a bad one stops the start)\n"
		"      --tracing-policy-dir DIR   load every *.yaml here (default: %s/policies when\n"
		"                                 present; rules/policies of the checkout for a build-tree\n"
		"                                 binary; \"\" for none); watched: files added, changed or\n"
		"                                 removed take effect without a restart (SIGHUP: read it and\n"
		"                                 --rules-dir again now). Must be root's and writable by\n"
		"                                 nobody else (or on a read-only mount), or it is not read\n"
		"      --rules-dir DIR            Lua correlation rules, every *.lua (default: %s/rules\n"
		"                                 when present; rules/lua for a build-tree binary; \"\" for none);\n"
		"                                 watched, and trusted as --tracing-policy-dir is\n"
		"      --default-policy-mode enforce|monitor  mode of policies that name none (options\n"
		"                                 policy-mode, tp add --mode) and of Lua kill(): monitor\n"
		"                                 reports what would have been done (default enforce;\n"
		"                                 the packaged unit: monitor)\n"
		"      --keep-enforcing     pin enforcing policies (Sigkill/Signal/Override) under --pin-dir so\n"
		"                           they go on enforcing while no agent runs (crash, SIGKILL, stop);\n"
		"                           the next agent replaces them once its own are attached\n"
		"      --pin-dir DIR        absolute bpffs directory of --keep-enforcing (default /sys/fs/bpf/vigil;\n"
		"                           pins of an earlier run there are removed at start even without the flag)\n"
		"      --no-cap-drop        keep every capability (default: drop all but the run-time set after start-up mounts)\n"
		"      --cri-endpoint PATH  the container runtime's CRI socket, where pods come from (default\n"
		"                           " VIGIL_CRI_DEFAULT_ENDPOINT "; \"none\": no pods)\n"
		"      --rule-deadline-ms N       wall-clock limit of one rule call; an overrun disables the\n"
		"                                 rule (default 50)\n"
		"      --rule-queue-len N         events the rules thread may lag by before drops (default 4096)\n"
		"      --enable-ancestors LIST  ancestors beyond the parent in these events: base (exec, exit;\n"
		"                           needed by the others), kprobe, tracepoint, uprobe, lsm (as Tetragon)\n"
		"      --username-metadata unix|disabled  process.user.name from /etc/passwd for host\n"
		"                           user-namespace processes (default disabled, as Tetragon)\n"
		"      --enable-process-cred  exec events carry binary_properties (setuid/setgid execs,\n"
		"                           privileges_changed, the inode of an unlinked binary), as Tetragon;\n"
		"                           process_credentials carry securebits, caps and user_ns\n"
		"      --redaction-filters JSON|@FILE  Tetragon's {\"binary_regex\":[..],\"redact\":[..]} objects:\n"
		"                           what a redact regex's capture groups match in arguments becomes\n"
		"                           \"*****\" in arguments and environment variables, on every output\n"
		"      --enable-process-environment-variables  exec events carry the environment\n"
		"                           (process.environment_variables), as Tetragon; it is redacted too\n"
		"      --filter-environment-variables LIST  only these variables (comma-separated names)\n"
		"      --process-environment-max BYTES  environment read per exec, 1-4095 (default 4095);\n"
		"                           a longer one is cut (flag truncEnvs, counted: kernel_env_truncated)\n"
		"      --cgroup-rate N,INTERVAL  at most N execs per INTERVAL (\"1s\") per cgroup and CPU are\n"
		"                           reported; past it process_throttle THROTTLE_START, the cgroup's\n"
		"                           execs and their exits are counted (kernel_throttled_exec/_exit),\n"
		"                           THROTTLE_STOP once it is quiet for 5 s (as Tetragon)\n"
		"      --journal-dir DIR          keep every published event on disk (DIR made 0700, the agent's\n"
		"                                 alone) for consumers that must not lose any: they pull over the\n"
		"                                 control socket (vigil getevents --reliable, vigil-forward)\n"
		"      --journal-max-mb N         bound on the journal, 1-16384 (default 256); past it the oldest\n"
		"                                 events go, counted (journal_evicted)\n"
		"      --dns-lookup-server ADDR:PORT  where DnsLookup actions send their query (default\n"
		"                                 1.1.1.1:53, as Tetragon; [v6]:PORT for IPv6)\n"
		"      --get-url-ca-file PEM      https GetUrl trusts the CAs in PEM instead of the system's\n"
		"                                 store (/etc/ssl/certs); certificates are always verified\n"
		"  -d, --debug              debug messages\n",
		VIGIL_BUS_DEFAULT_EVENTS, VIGIL_BUS_DEFAULT_CONTROL, VIGIL_SYSCONF_DIR, VIGIL_SYSCONF_DIR);
}

static void usage_export(FILE *f)
{
	fputs("export file (Tetragon's flags; backups are PATH-<UTC time>.EXT, .gz when compressed):\n"
		"      --export-file-max-size-mb N        rotate before passing N MB (default 10; 0: never)\n"
		"      --export-file-rotation-interval D  also rotate every D (\"1h\", \"30m\", seconds; default 0: never)\n"
		"      --export-file-max-backups N        rotated files kept (default 5; 0: all)\n"
		"      --export-file-compress             gzip rotated files (in the background)\n"
		"      --export-file-perm MODE            octal mode of new files (default 600)\n"
		"      --export-allowlist JSON|@FILE      export only events matching a filter (Tetragon Filter objects)\n"
		"      --export-denylist JSON|@FILE       never export events matching a filter (deny wins)\n"
		"      --field-filters JSON|@FILE         include/exclude fields per event type\n"
		"      --export-rate-limit N|TYPE=N,...   events a minute per event type; drops reported as\n"
		"                                         rate_limit_info events (-1: unlimited, 0: none)\n"
		"      --export-vigil-events file|same|bus|PATH  where vigil's own kinds (process_alert,\n"
		"                                         rule_action, rule_status) go. file (default): their own\n"
		"                                         file beside the export file (events.vigil.json), the\n"
		"                                         export file then holds only Tetragon's schema (strict\n"
		"                                         protojson readers accept every line); same: one file\n"
		"                                         with everything, vigil's extra fields too; bus: not\n"
		"                                         exported; PATH: their own file there\n", f);
}

static void usage_metrics_deny(FILE *f)
{
	fputs("metrics:\n"
		"      --metrics-server ADDR    Prometheus /metrics on ADDR (\":2112\" is 127.0.0.1:2112)\n"
		"      --metrics-binary-labels auto|on|off  binary paths as labels (default auto: on for a\n"
		"                               loopback ADDR, \"hidden\" for any other)\n"
		"      --metrics-names both|vigil|tetragon  families served: vigil_* and Tetragon's tetragon_*\n"
		"                               (names, labels, meanings) side by side (default both), or one\n"
		"what a Lua rule's deny() may add to a kernel list (README: \"Lua deny, checked\"):\n"
		"      --deny-ttl D             entries expire after D (\"1h\", \"10m\", seconds; default 1h; 0: never)\n"
		"      --deny-rate N            deny() calls per rule per minute, 1-10000 (default 10)\n"
		"      --deny-protect PATH      no rule may deny a file at or under PATH (repeatable)\n"
		"      --deny-system-files      let rules deny root-owned system files and files their\n"
		"                               process's user does not own (off by default)\n", f);
}

static void usage(FILE *f)
{
	usage_agent(f);
	usage_export(f);
	usage_metrics_deny(f);
	vigild_tls_usage(f);
}

static int parse_output(const char *s, enum vigil_output *out)
{
	if (!strcmp(s, "none"))
		*out = VIGIL_OUTPUT_NONE;
	else if (!strcmp(s, "json"))
		*out = VIGIL_OUTPUT_JSON;
	else if (!strcmp(s, "compact"))
		*out = VIGIL_OUTPUT_COMPACT;
	else
		return -EINVAL;
	return 0;
}

static int parse_binary_labels(const char *s, int *out)
{
	if (!strcmp(s, "auto"))
		*out = VIGIL_METRICS_BINARY_AUTO;
	else if (!strcmp(s, "on"))
		*out = VIGIL_METRICS_BINARY_ON;
	else if (!strcmp(s, "off"))
		*out = VIGIL_METRICS_BINARY_OFF;
	else
		return -EINVAL;
	return 0;
}

/* file, same, bus, or an absolute path (their own file there) */
static int parse_own(const char *s, struct vigil_exporter_opts *x)
{
	x->own_path = NULL;
	if (!strcmp(s, "file"))
		x->own = VIGIL_EXPORT_OWN_FILE;
	else if (!strcmp(s, "same"))
		x->own = VIGIL_EXPORT_OWN_SAME;
	else if (!strcmp(s, "bus"))
		x->own = VIGIL_EXPORT_OWN_BUS;
	else if (s[0] == '/' && s[1]) {
		x->own = VIGIL_EXPORT_OWN_FILE;
		x->own_path = s;
	} else {
		return -EINVAL;
	}
	return 0;
}

static int bad_value(const char *opt, const char *val)
{
	fprintf(stderr, "vigild: invalid value for --%s: '%s'\n", opt, val);
	usage(stderr);
	return 2;
}

/* What the command line asked for: the agent's and the exporter's options, and the lists and
 * directories they point at. */
struct vigild_args {
	struct vigil_agent_opts opts;
	struct vigil_exporter_opts xopts;
	const char *policies[64];
	size_t npolicies;
	const char *protect[64];
	size_t nprotect;
	const char *policy_dir, *rules_dir;
	bool policy_dir_set, rules_dir_set;
	struct vigild_tls tls;		/* --server-address, --server-tls-* */
};

/* A parse_*_option's answer for an option that another one parses. */
#define NOT_MINE (-1)

/* The export file's options (core/export). */
static int parse_export_option(int c, struct vigil_exporter_opts *x)
{
	const char *text;
	char *end;
	long v;

	switch (c) {
	case OPT_EXPORT_MAX_SIZE:
		if (vigil_parse_long(optarg, 0, VIGIL_EXPORT_MAX_SIZE_MB_LIMIT, &v))
			return bad_value("export-file-max-size-mb", optarg);
		x->file.max_bytes = (uint64_t)v << 20;
		return 0;
	case OPT_EXPORT_INTERVAL:
		return vigil_parse_duration(optarg, &x->file.interval_ns) ? bad_value("export-file-rotation-interval", optarg) : 0;
	case OPT_EXPORT_BACKUPS:
		if (vigil_parse_long(optarg, 0, VIGIL_EXPORT_MAX_BACKUPS_LIMIT, &v))
			return bad_value("export-file-max-backups", optarg);
		x->file.max_backups = (unsigned int)v;
		return 0;
	case OPT_EXPORT_COMPRESS: x->file.compress = true; return 0;
	case OPT_EXPORT_PERM:
		v = strtol(optarg, &end, 8);
		if (!*optarg || *end || v <= 0 || v > 0777)
			return bad_value("export-file-perm", optarg);
		x->file.perm = (unsigned int)v;
		return 0;
	case OPT_EXPORT_ALLOW:
	case OPT_EXPORT_DENY:
	case OPT_FIELD_FILTERS:
		text = value_or_file(optarg);
		if (!text)
			return bad_value(c == OPT_EXPORT_ALLOW ? "export-allowlist" :
					 c == OPT_EXPORT_DENY ? "export-denylist" : "field-filters", optarg);
		*(c == OPT_EXPORT_ALLOW ? &x->allowlist : c == OPT_EXPORT_DENY ? &x->denylist : &x->field_filters) = text;
		return 0;
	case OPT_EXPORT_RATE: x->rate_limit = optarg; return 0;
	case OPT_EXPORT_OWN: return parse_own(optarg, x) ? bad_value("export-vigil-events", optarg) : 0;
	}
	return NOT_MINE;
}

/* What Lua rules may do (deny() and its bounds) and how they run, and the metrics endpoint. */
static int parse_rules_option(int c, struct vigild_args *a)
{
	struct vigil_agent_opts *o = &a->opts;
	enum vigil_metrics_names names;
	uint64_t ttl_ns;
	long v;

	switch (c) {
	case OPT_DENY_TTL:
		if (vigil_parse_duration(optarg, &ttl_ns) || ttl_ns % 1000000000ULL || ttl_ns / 1000000000ULL > UINT32_MAX)
			return bad_value("deny-ttl", optarg);
		o->deny_ttl_s = (uint32_t)(ttl_ns / 1000000000ULL);
		o->deny_ttl_set = true;
		return 0;
	case OPT_DENY_RATE:
		if (vigil_parse_long(optarg, 1, 10000, &v))
			return bad_value("deny-rate", optarg);
		o->deny_rate = (uint32_t)v;
		return 0;
	case OPT_DENY_PROTECT:
		if (optarg[0] != '/' || a->nprotect == VIGIL_ARRAY_SIZE(a->protect))
			return bad_value("deny-protect", optarg);
		a->protect[a->nprotect++] = optarg;
		return 0;
	case OPT_DENY_SYSTEM_FILES: o->deny_system_files = true; return 0;
	case OPT_RULE_DEADLINE:
		if (vigil_parse_long(optarg, 1, 600000, &v))
			return bad_value("rule-deadline-ms", optarg);
		o->rule_deadline_ms = (unsigned int)v;
		return 0;
	case OPT_RULE_QUEUE:
		if (vigil_parse_long(optarg, 1, 1L << 20, &v))
			return bad_value("rule-queue-len", optarg);
		o->rule_queue_len = (size_t)v;
		return 0;
	case OPT_METRICS_SERVER: o->metrics_server = optarg; return 0;
	case OPT_METRICS_BINARY_LABELS:
		return parse_binary_labels(optarg, &o->metrics_binary_labels) ? bad_value("metrics-binary-labels", optarg) : 0;
	case OPT_METRICS_NAMES:
		if (vigil_metrics_names_parse(optarg, &names))
			return bad_value("metrics-names", optarg);
		o->metrics_names = (int)names;
		return 0;
	}
	return NOT_MINE;
}

/* Policies: which to load, their default mode, and what outlives the agent. */
static int parse_policy_option(int c, struct vigild_args *a)
{
	struct vigil_agent_opts *o = &a->opts;

	switch (c) {
	case 't':
		if (a->npolicies == VIGIL_ARRAY_SIZE(a->policies)) {
			fprintf(stderr, "vigild: at most %zu --tracing-policy options\n", VIGIL_ARRAY_SIZE(a->policies));
			return 2;
		}
		a->policies[a->npolicies++] = optarg;
		return 0;
	case 'T': a->policy_dir = optarg; a->policy_dir_set = true; return 0;
	case 'R': a->rules_dir = optarg; a->rules_dir_set = true; return 0;
	case OPT_DEFAULT_POLICY_MODE:
		if (strcmp(optarg, "enforce") && strcmp(optarg, "monitor"))
			return bad_value("default-policy-mode", optarg);
		o->monitor_by_default = !strcmp(optarg, "monitor");
		return 0;
	case OPT_KEEP_ENFORCING: o->keep_enforcing = true; return 0;
	case OPT_PIN_DIR:
		if (optarg[0] != '/' || strlen(optarg) > 200 || strstr(optarg, "/../") || strstr(optarg, "/./"))
			return bad_value("pin-dir", optarg);
		o->pin_root = optarg;
		return 0;
	}
	return NOT_MINE;
}

/* --filter-environment-variables A,B (repeatable): names kept for the agent's life */
static int env_filter_option(const char *arg, struct vigil_agent_opts *o)
{
	static const char *names[64];
	static size_t n;
	char *copy = strdup(arg), *save = NULL, *tok;

	if (!copy)
		return bad_value("filter-environment-variables", arg);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == VIGIL_ARRAY_SIZE(names) || strchr(tok, '='))
			return bad_value("filter-environment-variables", arg);
		names[n++] = tok;	/* copy is kept: the names point into it */
	}
	o->env_filter = names;
	o->nenv_filter = n;
	return 0;
}

/* --cgroup-rate N,INTERVAL as Tetragon's ("1000,1s"); N 0 turns it off */
static int cgroup_rate_option(const char *arg, struct vigil_agent_opts *o)
{
	const char *comma = strchr(arg, ',');
	char num[32];
	long v;

	if (!comma || (size_t)(comma - arg) >= sizeof(num))
		return bad_value("cgroup-rate", arg);
	memcpy(num, arg, (size_t)(comma - arg));
	num[comma - arg] = '\0';
	if (vigil_parse_long(num, 0, 1L << 30, &v) || vigil_parse_duration(comma + 1, &o->cgroup_rate_interval_ns) ||
	    !o->cgroup_rate_interval_ns)
		return bad_value("cgroup-rate", arg);
	o->cgroup_rate_events = (uint64_t)v;
	return 0;
}

/* The events: what each carries, and how the reader and the process cache are sized. */
static int parse_event_option(int c, struct vigil_agent_opts *o)
{
	long v;

	switch (c) {
	case OPT_PROCESS_CRED: o->process_cred = true; return 0;
	case OPT_REDACTION: return redaction_option(optarg, &o->redaction);
	case OPT_PROCESS_ENV: o->process_env = true; return 0;
	case OPT_ENV_FILTER: return env_filter_option(optarg, o);
	case OPT_ENV_MAX:
		if (vigil_parse_long(optarg, 1, 4095, &v))
			return bad_value("process-environment-max", optarg);
		o->env_max = (uint32_t)v;
		return 0;
	case OPT_CGROUP_RATE: return cgroup_rate_option(optarg, o);
	case OPT_ANCESTORS:
		return vigil_agent_ancestors_parse(optarg, &o->ancestors) ? bad_value("enable-ancestors", optarg) : 0;
	case OPT_USERNAME:
		if (strcmp(optarg, "unix") && strcmp(optarg, "disabled"))
			return bad_value("username-metadata", optarg);
		o->username_metadata = !strcmp(optarg, "unix");
		return 0;
	case 'r':
		if (vigil_parse_long(optarg, 4096, 1L << 30, &v) || (v & (v - 1)))
			return bad_value("rb-size", optarg);
		o->ringbuf_bytes = (uint32_t)v;
		return 0;
	case OPT_PROCESS_CACHE_SIZE:
		if (vigil_parse_long(optarg, 64, 1L << 24, &v))
			return bad_value("process-cache-size", optarg);
		o->process_cache_size = (uint32_t)v;
		return 0;
	case 'w':
		if (vigil_parse_long(optarg, 1, 4096, &v))
			return bad_value("wakeup-batch", optarg);
		o->wakeup_batch = (uint32_t)v;
		return 0;
	case 'p':
		if (vigil_parse_long(optarg, 1, 1000, &v))
			return bad_value("poll-ms", optarg);
		o->poll_ms = (int)v;
		return 0;
	case OPT_WAKEUP_US:
		if (vigil_parse_long(optarg, 0, 1000000, &v))
			return bad_value("wakeup-us", optarg);
		o->wakeup_us = v ? (int32_t)v : -1;
		return 0;
	case 'n': o->node_name = optarg; return 0;
	}
	return NOT_MINE;
}

/* Where the agent talks (bus, control, journal, CRI), what it prints, and its privileges. */
static int parse_io_option(int c, struct vigil_agent_opts *o)
{
	long v;

	switch (c) {
	case 'b': o->events_url = optarg; return 0;
	case 'c': o->control_url = optarg; return 0;
	case OPT_CONTROL_GROUP:
		if (!*optarg || !getgrnam(optarg))
			return bad_value("control-group", optarg);
		o->control_group = optarg;
		return 0;
	case 'o': return parse_output(optarg, &o->output) ? bad_value("output", optarg) : 0;
	case 'C': o->color = true; return 0;
	case 'e': o->export_file = optarg; return 0;
	case OPT_JOURNAL_DIR:
		if (!*optarg)
			return bad_value("journal-dir", optarg);
		o->journal_dir = optarg;
		return 0;
	case OPT_JOURNAL_MAX:
		if (vigil_parse_long(optarg, 1, 16384, &v))
			return bad_value("journal-max-mb", optarg);
		o->journal_max_bytes = (uint64_t)v << 20;
		return 0;
	case OPT_DNS_LOOKUP_SERVER:
		o->dns_lookup_server = optarg;	/* checked by the agent, which names it when bad */
		return 0;
	case OPT_GET_URL_CA_FILE:
		o->get_url_ca_file = optarg;	/* checked readable by the agent */
		return 0;
	case OPT_NO_CAP_DROP: o->drop_privileges = false; return 0;
	case OPT_CRI_ENDPOINT:
		if (strcmp(optarg, "none") && (strncmp(optarg, "unix://", 7) ? optarg[0] != '/' : optarg[7] != '/'))
			return bad_value("cri-endpoint", optarg);
		o->cri_endpoint = optarg;
		return 0;
	case 'd': vigil_print_set_debug(1); return 0;
	}
	return NOT_MINE;
}

/* The command line into a. 0 to start; otherwise the exit code (*help: 0 after usage). */
static int parse_args(int argc, char **argv, struct vigild_args *a, bool *help)
{
	int c, rc;

	while ((c = getopt_long(argc, argv, "b:c:o:e:n:dh", options, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			*help = true;
			return 0;
		}
		rc = parse_io_option(c, &a->opts);
		if (rc == NOT_MINE)
			rc = parse_event_option(c, &a->opts);
		if (rc == NOT_MINE)
			rc = parse_policy_option(c, a);
		if (rc == NOT_MINE)
			rc = parse_rules_option(c, a);
		if (rc == NOT_MINE)
			rc = parse_export_option(c, &a->xopts);
		if (rc == NOT_MINE)
			rc = vigild_tls_option(c, optarg, &a->tls, &a->opts);
		if (rc == NOT_MINE) {
			usage(stderr);
			return 2;
		}
		if (rc)
			return rc;
	}
	if (optind < argc) {
		fprintf(stderr, "vigild: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return vigild_tls_finish(&a->tls, &a->opts);
}

/* The lists and directories into a->opts, with the shipped policies and rules by default. */
static void finish_opts(struct vigild_args *a)
{
	struct vigil_agent_opts *o = &a->opts;

	if (!a->policy_dir_set)
		a->policy_dir = default_dir(VIGIL_SOURCE_TREE "/rules/policies", VIGIL_SYSCONF_DIR "/policies");
	if (!a->rules_dir_set)
		a->rules_dir = default_dir(VIGIL_SOURCE_TREE "/rules/lua", VIGIL_SYSCONF_DIR "/rules");
	o->export_opts = &a->xopts;
	o->policy_files = a->policies;
	o->npolicy_files = a->npolicies;
	o->deny_protect = a->protect;
	o->ndeny_protect = a->nprotect;
	o->policy_dir = a->policy_dir && *a->policy_dir ? a->policy_dir : NULL;
	o->rules_dir = a->rules_dir && *a->rules_dir ? a->rules_dir : NULL;
}

int main(int argc, char **argv)
{
	static struct vigild_args a = {
		.opts = {.sz = sizeof(a.opts), .drop_privileges = true},
		/* Tetragon's defaults: rotate at 10 MB, keep 5 backups */
		.xopts = {
			.sz = sizeof(a.xopts),
			.file = {.sz = sizeof(a.xopts.file), .max_bytes = 10ULL << 20, .max_backups = 5, .perm = 0600},
		},
	};
	struct sigaction sa = {.sa_handler = on_signal};
	bool help = false;
	int err;

	err = parse_args(argc, argv, &a, &help);
	if (err || help)
		return err;
	err = check_environment();
	if (err)
		return err;
	finish_opts(&a);
	raise_open_files();

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	running = vigil_agent__new(&a.opts);
	if (!running) {
		fprintf(stderr, "vigild: cannot start: %s\n", strerror(errno));
		return 1;
	}
	if (stop_requested) {
		fprintf(stderr, "vigild: stopped while starting\n");
		err = 0;
	} else {
		fprintf(stderr, "vigild: running; events on %s\n",
			a.opts.events_url ? a.opts.events_url : VIGIL_BUS_DEFAULT_EVENTS);
		err = vigil_agent__run(running);
	}
	vigil_agent__free(running);
	running = NULL;
	fprintf(stderr, "vigild: stopped\n");
	return err ? 1 : 0;
}

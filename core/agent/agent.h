/* agent.h - the running agent: probes the kernel, loads the programs, seeds the process
 * cache from /proc, then reads the ring buffer and sends every event to its sinks (the
 * bus, the terminal, an export file) until stopped. Answers the control socket. */
#ifndef VIGIL_AGENT_H
#define VIGIL_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"

enum vigil_output {
	VIGIL_OUTPUT_NONE,
	VIGIL_OUTPUT_JSON,
	VIGIL_OUTPUT_COMPACT,
};

struct vigil_exporter_opts;
struct vigil_redaction;
struct vigil_ctl_tls_opts;

struct vigil_agent_opts {
	size_t sz;			/* sizeof(struct vigil_agent_opts) */
	const char *events_url;		/* default VIGIL_BUS_DEFAULT_EVENTS */
	const char *control_url;	/* default VIGIL_BUS_DEFAULT_CONTROL */
	const char *control_group;	/* --control-group: may run read-only commands; NULL: root only */
	const char *node_name;		/* default: $NODE_NAME, else the hostname */
	enum vigil_output output;	/* events printed on stdout by the agent itself */
	bool color;			/* ANSI colours in compact output */
	const char *export_file;	/* append JSON lines here; NULL for none */
	uint32_t ringbuf_bytes;		/* 0: default (8 MiB) */
	uint32_t wakeup_batch;		/* 0: default (64) */
	int poll_ms;			/* reader latency bound; 0: default (20 ms) */
	int32_t wakeup_us;		/* kernel wake-up time bound (vigil_loader_opts); 0: default, -1: none */
	const char *proc_root;		/* default "/proc" */
	const char *cri_endpoint;	/* CRI socket for pods; NULL: containerd's; "none": no pods */
	const char *const *policy_files;	/* --tracing-policy: loaded at start; a bad one stops the start */
	size_t npolicy_files;
	const char *policy_dir;		/* --tracing-policy-dir: every *.yaml; bad ones are reported and skipped */
	/* export_file's rotation, filters, field filters and rate limit (core/export); its
	 * file.path and node_name are set by the agent. NULL: Tetragon's defaults (rotate at
	 * 10 MB, keep 5 backups, no filters). */
	const struct vigil_exporter_opts *export_opts;
	const char *metrics_server;	/* --metrics-server ":2112" (core/metrics); NULL: none */
	int metrics_binary_labels;	/* --metrics-binary-labels: enum vigil_metrics_binary_labels (0: auto) */
	int metrics_names;		/* --metrics-names: enum vigil_metrics_names (0: both) */
	uint32_t ancestors;		/* --enable-ancestors: VIGIL_AGENT_ANCESTORS_BIT of event types */
	bool username_metadata;		/* --username-metadata unix: process.user.name */
	bool process_cred;		/* --enable-process-cred: exec's binary_properties */
	/* --redaction-filters, compiled (core/export); the caller's, kept until the agent is freed */
	const struct vigil_redaction *redaction;
	/* --enable-process-environment-variables: exec events carry the environment, at most
	 * env_max bytes of it (0: 4095) read in the kernel, only the variables env_filter
	 * names (--filter-environment-variables; none: all) */
	bool process_env;
	uint32_t env_max;
	const char *const *env_filter;
	size_t nenv_filter;
	/* --cgroup-rate N,INTERVAL: a cgroup's execs over N per interval and CPU are held back
	 * between process_throttle START and STOP events; 0: off */
	uint64_t cgroup_rate_events;
	uint64_t cgroup_rate_interval_ns;
	const char *rules_dir;		/* --rules-dir: Lua rules, every *.lua (core/luahost); NULL: none */
	/* What a rule's deny() may add to a kernel list (core/agent/lists.c). */
	uint32_t deny_ttl_s;		/* --deny-ttl: entries expire after this; 0 never (default 3600) */
	bool deny_ttl_set;		/* deny_ttl_s was given (0 included) */
	uint32_t deny_rate;		/* --deny-rate: deny() calls per rule per minute; 0: 10 */
	bool deny_system_files;		/* --deny-system-files: rules may deny root's and others' files */
	const char *const *deny_protect;	/* --deny-protect: paths no rule may deny */
	size_t ndeny_protect;
	uint32_t process_cache_size;	/* --process-cache-size: entries; 0: default (65536) */
	/* --keep-enforcing: pin the links of enforcing policies (and of the process programs
	 * their matchBinaries read) so a crash or a stop leaves them enforcing; the next
	 * agent replaces them once its own are attached */
	bool keep_enforcing;
	const char *pin_root;		/* default VIGIL_PIN_ROOT (/sys/fs/bpf/vigil) */
	/* after mounting bpffs/tracefs, keep only the capabilities run-time work needs
	 * (privileges.c) in every set, bounding included, and set no_new_privs. Capabilities
	 * are per thread: call vigil_agent__new before the process starts any thread */
	bool drop_privileges;
	unsigned int rule_deadline_ms;	/* --rule-deadline-ms: per rule call; 0: the host's default */
	size_t rule_queue_len;		/* --rule-queue-len: events queued for the rules; 0: default */
	/* --default-policy-mode monitor: a policy that does not name its mode (spec.options
	 * policy-mode; policy_add without "mode") runs in monitor mode, and Lua rules' kill()
	 * reports instead of signalling. A policy that says enforce still enforces. */
	bool monitor_by_default;
	/* --journal-dir: keep every published message on disk (core/bus journal.c) for
	 * consumers that pull them over the control socket (events_read); NULL: no journal */
	const char *journal_dir;
	uint64_t journal_max_bytes;	/* --journal-max-mb; 0: VIGIL_JOURNAL_DEFAULT_BYTES */
	const char *dns_lookup_server;	/* --dns-lookup-server: DnsLookup's resolver; NULL: 1.1.1.1:53 */
	const char *get_url_ca_file;	/* --get-url-ca-file: CAs https GetUrl trusts; NULL: the system's */
	/* --server-address HOST:PORT with --server-tls-*: the control socket's mutual-TLS
	 * listener (core/bus ctl_tls.c; its events_url is set by the agent). NULL: none */
	const struct vigil_ctl_tls_opts *tls;
};

struct vigil_agent;

#define VIGIL_AGENT_ANCESTORS_BIT(type) (1u << ((unsigned int)(type) & 31))

/* --enable-ancestors "base,kprobe,tracepoint,uprobe,lsm" into a mask of event types
 * ("base": exec and exit, which the others need, as Tetragon). 0 or -EINVAL. */
VIGIL_API int vigil_agent_ancestors_parse(const char *list, uint32_t *mask);

/* Strings in opts are borrowed: they must outlive the agent. */

/* Build a running agent (programs attached, /proc scanned, sockets bound). NULL + errno,
 * with the reason logged. */
VIGIL_API struct vigil_agent *vigil_agent__new(const struct vigil_agent_opts *opts);
/* Read and dispatch events until vigil_agent__stop. Returns 0 or -errno. */
VIGIL_API int vigil_agent__run(struct vigil_agent *a);
/* Ask run() to return. Async-signal-safe. */
VIGIL_API void vigil_agent__stop(struct vigil_agent *a);
/* Read the policy directory and the rules directory again now, as their watch does when they
 * change, and retry the files refused before (SIGHUP in vigild). Returns at once: the watch
 * thread does the work. Async-signal-safe. */
VIGIL_API void vigil_agent__reload(struct vigil_agent *a);
/* Detach everything, close the sockets, free. Accepts NULL. */
VIGIL_API void vigil_agent__free(struct vigil_agent *a);

#endif

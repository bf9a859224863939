/* vigild.c - the agent: foreground, stops cleanly on SIGINT/SIGTERM. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "common/common.h"

static struct vigil_agent *running;

static void on_signal(int sig)
{
	if (running)
		vigil_agent__stop(running);
}

/* rules/policies of the checkout this binary was built in (build/core/cli/vigild), else the
 * installed directory, else none. */
static const char *default_policy_dir(const char *argv0)
{
	static char path[PATH_MAX];
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *p;
	int up;

	(void)argv0;
	if (n > 0) {
		exe[n] = '\0';
		/* walk up from the binary looking for rules/policies */
		for (up = 0; up < 5 && (p = strrchr(exe, '/')); up++) {
			*p = '\0';
			if (snprintf(path, sizeof(path), "%.4000s/rules/policies", exe) < (int)sizeof(path) &&
			    !access(path, R_OK))
				return path;
		}
	}
	return access("/etc/vigil/policies", R_OK) ? NULL : "/etc/vigil/policies";
}

static const struct option options[] = {
	{"bus", required_argument, NULL, 'b'},
	{"control", required_argument, NULL, 'c'},
	{"output", required_argument, NULL, 'o'},
	{"color", no_argument, NULL, 'C'},
	{"export-file", required_argument, NULL, 'e'},
	{"rb-size", required_argument, NULL, 'r'},
	{"wakeup-batch", required_argument, NULL, 'w'},
	{"poll-ms", required_argument, NULL, 'p'},
	{"node-name", required_argument, NULL, 'n'},
	{"tracing-policy", required_argument, NULL, 't'},
	{"tracing-policy-dir", required_argument, NULL, 'T'},
	{"debug", no_argument, NULL, 'd'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigild [options]\n"
		"  -b, --bus URL            event bus (default %s)\n"
		"  -c, --control URL        control socket (default %s)\n"
		"  -o, --output FORMAT      print events: none, json, compact (default none)\n"
		"      --color              colour compact output\n"
		"  -e, --export-file PATH   append events as JSON lines\n"
		"      --rb-size BYTES      ring buffer size, power of two (default 8388608)\n"
		"      --wakeup-batch N     records per reader wake-up, 1-4096 (default 64)\n"
		"      --poll-ms N          reader latency bound in ms, 1-1000 (default 20)\n"
		"      --node-name NAME     node name in events and exec_ids (default $NODE_NAME or hostname)\n"
		"      --tracing-policy FILE      load this policy at start (repeatable; a bad one stops the start)\n"
		"      --tracing-policy-dir DIR   load every *.yaml here (default: rules/policies in a checkout,\n"
		"                                 else /etc/vigil/policies when present; \"\" for none)\n"
		"  -d, --debug              debug messages\n",
		"ipc:///run/vigil/events.sock", "ipc:///run/vigil/control.sock");
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

static int bad_value(const char *opt, const char *val)
{
	fprintf(stderr, "vigild: invalid value for --%s: '%s'\n", opt, val);
	usage(stderr);
	return 2;
}

int main(int argc, char **argv)
{
	struct vigil_agent_opts opts = {.sz = sizeof(opts)};
	struct sigaction sa = {.sa_handler = on_signal};
	const char *policies[64];
	size_t npolicies = 0;
	const char *policy_dir = NULL;
	bool policy_dir_set = false;
	long v;
	int c, err;

	while ((c = getopt_long(argc, argv, "b:c:o:e:n:dh", options, NULL)) != -1) {
		switch (c) {
		case 'b': opts.events_url = optarg; break;
		case 'c': opts.control_url = optarg; break;
		case 'o':
			if (parse_output(optarg, &opts.output))
				return bad_value("output", optarg);
			break;
		case 'C': opts.color = true; break;
		case 'e': opts.export_file = optarg; break;
		case 'r':
			if (vigil_parse_long(optarg, 4096, 1L << 30, &v) || (v & (v - 1)))
				return bad_value("rb-size", optarg);
			opts.ringbuf_bytes = (uint32_t)v;
			break;
		case 'w':
			if (vigil_parse_long(optarg, 1, 4096, &v))
				return bad_value("wakeup-batch", optarg);
			opts.wakeup_batch = (uint32_t)v;
			break;
		case 'p':
			if (vigil_parse_long(optarg, 1, 1000, &v))
				return bad_value("poll-ms", optarg);
			opts.poll_ms = (int)v;
			break;
		case 'n': opts.node_name = optarg; break;
		case 't':
			if (npolicies == VIGIL_ARRAY_SIZE(policies)) {
				fprintf(stderr, "vigild: at most %zu --tracing-policy options\n", VIGIL_ARRAY_SIZE(policies));
				return 2;
			}
			policies[npolicies++] = optarg;
			break;
		case 'T': policy_dir = optarg; policy_dir_set = true; break;
		case 'd': vigil_print_set_debug(1); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vigild: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	if (!policy_dir_set)
		policy_dir = default_policy_dir(argv[0]);
	opts.policy_files = policies;
	opts.npolicy_files = npolicies;
	opts.policy_dir = policy_dir && *policy_dir ? policy_dir : NULL;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	running = vigil_agent__new(&opts);
	if (!running) {
		fprintf(stderr, "vigild: cannot start: %s\n", strerror(errno));
		return 1;
	}
	fprintf(stderr, "vigild: running; events on %s\n", opts.events_url ? opts.events_url : "ipc:///run/vigil/events.sock");
	err = vigil_agent__run(running);
	vigil_agent__free(running);
	running = NULL;
	fprintf(stderr, "vigild: stopped\n");
	return err ? 1 : 0;
}

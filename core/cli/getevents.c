/* getevents.c - `vigil getevents`: subscribe to the bus, filter, print. */
#include <errno.h>
#include <getopt.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus/bus.h"
#include "cli.h"
#include "encode/encode.h"

#define MAX_TYPES 16

struct filter {
	bool has_pid;
	uint32_t pid;
	bool has_process;
	regex_t process;		/* matched against process.binary */
	size_t ntypes;
	enum vigil_event_type types[MAX_TYPES];
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	stopping = 1;
}

static const struct option options[] = {
	{"output", required_argument, NULL, 'o'},
	{"process", required_argument, NULL, 'p'},
	{"pid", required_argument, NULL, 'P'},
	{"event-types", required_argument, NULL, 'e'},
	{"bus", required_argument, NULL, 'b'},
	{"color", required_argument, NULL, 'c'},
	{"timestamps", no_argument, NULL, 't'},
	{"count", required_argument, NULL, 'n'},
	{"timeout", required_argument, NULL, 'T'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: vigil getevents [options]\n"
		   "  -o, --output json|compact   output format (default json)\n"
		   "      --process REGEX         only processes whose binary matches\n"
		   "      --pid N                 only this pid\n"
		   "  -e, --event-types LIST      comma-separated: exec,exit (or PROCESS_EXEC,...)\n"
		   "      --bus URL               event bus (default %s)\n"
		   "      --color auto|always|never\n"
		   "      --timestamps            prefix compact lines with the event time\n"
		   "  -n, --count N               exit after N events\n"
		   "      --timeout SECONDS       exit after this long\n",
		VIGIL_BUS_DEFAULT_EVENTS);
}

static int parse_types(char *list, struct filter *f)
{
	char *save = NULL, *tok;

	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (f->ntypes == MAX_TYPES || vigil_event_type_parse(tok, &f->types[f->ntypes]))
			return -EINVAL;
		f->ntypes++;
	}
	return f->ntypes ? 0 : -EINVAL;
}

/* Tetragon's allow-list semantics: every given field must match. */
static bool matches(const struct filter *f, const struct vigil_msg *m)
{
	char binary[4096];
	uint64_t pid;
	size_t i;

	if (f->ntypes) {
		enum vigil_event_type t = vigil_msg__type(m);
		bool any = false;

		for (i = 0; i < f->ntypes; i++)
			any |= f->types[i] == t;
		if (!any)
			return false;
	}
	if (f->has_pid && (vigil_msg__find_u64(m, "process.pid", &pid) || pid != f->pid))
		return false;
	if (f->has_process) {
		if (vigil_msg__find_str(m, "process.binary", binary, sizeof(binary)) < 0)
			return false;
		if (regexec(&f->process, binary, 0, NULL, 0))
			return false;
	}
	return true;
}

int cmd_getevents(int argc, char **argv)
{
	struct vigil_compact_opts copts = {0};
	struct filter f = {0};
	struct vigil_buf line = {0};
	struct vigil_sub *sub = NULL;
	struct sigaction sa = {.sa_handler = on_signal};
	const char *url = VIGIL_BUS_DEFAULT_EVENTS, *color = "auto";
	bool json = true;
	long count = -1, timeout = -1, v;
	struct timespec start, now;
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:e:n:h", options, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (strcmp(optarg, "json") && strcmp(optarg, "compact"))
				return cli_bad_value("getevents", "output", optarg);
			json = !strcmp(optarg, "json");
			break;
		case 'p':
			if (regcomp(&f.process, optarg, REG_EXTENDED | REG_NOSUB))
				return cli_bad_value("getevents", "process", optarg);
			f.has_process = true;
			break;
		case 'P':
			if (vigil_parse_long(optarg, 0, UINT32_MAX, &v))
				return cli_bad_value("getevents", "pid", optarg);
			f.has_pid = true;
			f.pid = (uint32_t)v;
			break;
		case 'e':
			if (parse_types(optarg, &f))
				return cli_bad_value("getevents", "event-types", optarg);
			break;
		case 'b': url = optarg; break;
		case 'c':
			if (strcmp(optarg, "auto") && strcmp(optarg, "always") && strcmp(optarg, "never"))
				return cli_bad_value("getevents", "color", optarg);
			color = optarg;
			break;
		case 't': copts.timestamps = true; break;
		case 'n':
			if (vigil_parse_long(optarg, 1, LONG_MAX, &count))
				return cli_bad_value("getevents", "count", optarg);
			break;
		case 'T':
			if (vigil_parse_long(optarg, 1, 86400 * 365, &timeout))
				return cli_bad_value("getevents", "timeout", optarg);
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	copts.color = !strcmp(color, "always") || (!strcmp(color, "auto") && isatty(STDOUT_FILENO));

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* a short receive timeout lets signals and --timeout be noticed */
	sub = vigil_sub__open(url, 200);
	if (!sub) {
		fprintf(stderr, "vigil getevents: cannot subscribe to %s: %s\n", url, strerror(errno));
		rc = 1;
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!stopping && count != 0) {
		struct vigil_msg *m;
		void *data = NULL;
		int n = vigil_sub__recv(sub, &data);

		if (timeout > 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - start.tv_sec >= timeout) {
				vigil_bus_msg_free(data);
				break;
			}
		}
		if (n == -ETIMEDOUT || n == -EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "vigil getevents: receive failed: %s\n", strerror(-n));
			rc = 1;
			break;
		}
		m = vigil_msg__decode(data, (size_t)n);
		vigil_bus_msg_free(data);
		if (!m) {
			fprintf(stderr, "vigil getevents: dropped a malformed message (%d bytes)\n", n);
			continue;
		}
		if (matches(&f, m)) {
			vigil_buf_reset(&line);
			if (!(json ? vigil_msg__to_json(m, &line) : vigil_msg__to_compact(m, &copts, &line))) {
				fwrite(line.data, 1, line.len, stdout);
				fputc('\n', stdout);
				fflush(stdout);
				if (count > 0)
					count--;
			}
		}
		vigil_msg__free(m);
	}
out:
	vigil_sub__close(sub);
	vigil_buf_free(&line);
	if (f.has_process)
		regfree(&f.process);
	return rc;
}

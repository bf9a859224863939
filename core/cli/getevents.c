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
#include "export/export.h"

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
	{"allow", required_argument, NULL, 'A'},
	{"deny", required_argument, NULL, 'D'},
	{"field-filters", required_argument, NULL, 'F'},
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
		   "      --timeout SECONDS       exit after this long\n"
		   "      --allow JSON|@FILE      only events matching one of these Tetragon Filter objects\n"
		   "      --deny JSON|@FILE       never events matching one of these (deny wins; both repeatable)\n"
		   "      --field-filters JSON|@FILE  include/exclude fields per event type (-o json)\n",
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

/* Append a filter option's value (JSON, or @FILE for a file's) to the list's text. */
static int add_filter_text(struct vigil_buf *list, const char *v)
{
	char chunk[4096];
	size_t n;
	FILE *f;
	int err = 0;

	if (v[0] != '@')
		return vigil_buf_puts(list, v) || vigil_buf_puts(list, "\n") ? -ENOMEM : 0;
	f = fopen(v + 1, "re");
	if (!f)
		return -errno;
	while (!err && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		err = vigil_buf_append(list, chunk, n);
	fclose(f);
	return err ? err : vigil_buf_puts(list, "\n");
}

/* Compile the --allow/--deny/--field-filters texts; print the reason and return 2 when wrong. */
static int compile_filters(struct vigil_buf *text, struct vigil_filter **allow, struct vigil_filter **deny,
			   struct vigil_field_filter **fields)
{
	static const char *const opt[] = {"allow", "deny", "field-filters"};
	struct vigil_export_error err;
	int i;

	for (i = 0; i < 3; i++) {
		if (!text[i].data)
			continue;
		if (i == 2)
			*fields = vigil_field_filter__new_json(text[i].data, &err);
		else
			*(i ? deny : allow) = vigil_filter__new_json(text[i].data, &err);
		if (i == 2 ? !*fields : !*(i ? deny : allow)) {
			fprintf(stderr, "vigil getevents: --%s: %s (object %d, line %d, column %d)\n", opt[i],
				errno == EINVAL ? err.reason : strerror(errno), err.index, err.line, err.column);
			return 2;
		}
	}
	return 0;
}

int cmd_getevents(int argc, char **argv)
{
	struct vigil_compact_opts copts = {0};
	struct filter f = {0};
	struct vigil_buf line = {0};
	struct vigil_sub *sub = NULL;
	struct vigil_buf ftext[3] = {{0}};	/* --allow, --deny, --field-filters */
	struct vigil_filter *allow = NULL, *deny = NULL;
	struct vigil_field_filter *fields = NULL;
	const msgpack_object *root;
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
		case 'A':
		case 'D':
		case 'F':
			if (add_filter_text(&ftext[c == 'A' ? 0 : c == 'D' ? 1 : 2], optarg)) {
				rc = cli_bad_value("getevents", c == 'A' ? "allow" : c == 'D' ? "deny" : "field-filters",
						   optarg);
				goto out;
			}
			break;
		case 'h': usage(stdout); goto out;
		default: usage(stderr); rc = 2; goto out;
		}
	}
	rc = compile_filters(ftext, &allow, &deny, &fields);
	if (rc)
		goto out;
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
		if (matches(&f, m) && vigil_filter__pass(allow, deny, m)) {
			vigil_buf_reset(&line);
			root = json && fields ? vigil_field_filter__apply(fields, m) : vigil_msg__root(m);
			if (root && !(json ? vigil_json_from_msgpack(root, &line) : vigil_msg__to_compact(m, &copts, &line))) {
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
	vigil_filter__free(allow);
	vigil_filter__free(deny);
	vigil_field_filter__free(fields);
	for (c = 0; c < 3; c++)
		vigil_buf_free(&ftext[c]);
	return rc;
}

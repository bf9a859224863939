/* getevents.c - `vigil getevents`: subscribe to the bus (or read an export file), filter, print. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus/bus.h"
#include "cel/cel.h"
#include "cli.h"
#include "encode/encode.h"
#include "export/export.h"
#include "getevents_tetra.h"

#define MAX_TYPES 16

struct filter {
	bool has_pid;
	uint32_t pid;
	struct tetra_filter tetra;	/* --process, --policy-names, --host, --namespace-regex */
	size_t ntypes;
	enum vigil_event_type types[MAX_TYPES];
};

/* Long-only options; the letters are tetra's short options. */
enum {
	OPT_PROCESS = 0x100, OPT_PID, OPT_BUS, OPT_COLOR, OPT_TIMESTAMPS, OPT_COUNT, OPT_TIMEOUT, OPT_ALLOW,
	OPT_DENY, OPT_FIELD_FILTERS, OPT_POLICY_NAMES, OPT_HOST, OPT_NS_REGEX, OPT_CEL, OPT_STACK_TRACES,
	OPT_IMA_HASH, OPT_RECONNECT, OPT_RECONNECT_WAIT, OPT_SERVER, OPT_RETRIES, OPT_MAX_RECV, OPT_INPUT,
	OPT_DURATION, OPT_RELIABLE, OPT_FROM_SEQ, OPT_NAMESPACE, OPT_POD, OPT_CONTAINER,
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	stopping = 1;
}

static const struct option options[] = {
	{"output", required_argument, NULL, 'o'},
	{"process", required_argument, NULL, OPT_PROCESS},
	{"processes", required_argument, NULL, OPT_PROCESS},	/* tetra's hidden plural */
	{"pid", required_argument, NULL, OPT_PID},
	{"event-types", required_argument, NULL, 'e'},
	{"bus", required_argument, NULL, OPT_BUS},
	{"color", required_argument, NULL, OPT_COLOR},
	{"timestamps", no_argument, NULL, OPT_TIMESTAMPS},
	{"count", required_argument, NULL, OPT_COUNT},
	{"duration", required_argument, NULL, OPT_DURATION},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"allow", required_argument, NULL, OPT_ALLOW},
	{"deny", required_argument, NULL, OPT_DENY},
	{"field-filters", required_argument, NULL, OPT_FIELD_FILTERS},
	{"include-fields", required_argument, NULL, 'f'},
	{"exclude-fields", required_argument, NULL, 'F'},
	{"policy-names", required_argument, NULL, OPT_POLICY_NAMES},
	{"host", no_argument, NULL, OPT_HOST},
	/* tetra's pod filters, AND'ed with the rest; the plurals are tetra's hidden aliases */
	{"namespace", required_argument, NULL, 'n'},
	{"namespaces", required_argument, NULL, 'n'},
	{"pod", required_argument, NULL, OPT_POD},
	{"pods", required_argument, NULL, OPT_POD},
	{"container", required_argument, NULL, OPT_CONTAINER},
	{"containers", required_argument, NULL, OPT_CONTAINER},
	{"namespace-regex", required_argument, NULL, OPT_NS_REGEX},
	{"cel-expression", required_argument, NULL, OPT_CEL},
	{"tty-encode", required_argument, NULL, 't'},
	{"stack-traces", optional_argument, NULL, OPT_STACK_TRACES},
	{"ima-hash", optional_argument, NULL, OPT_IMA_HASH},
	{"reconnect", optional_argument, NULL, OPT_RECONNECT},
	{"reconnect-wait", required_argument, NULL, OPT_RECONNECT_WAIT},
	{"server-address", required_argument, NULL, OPT_SERVER},
	{"retries", required_argument, NULL, OPT_RETRIES},
	{"max-recv-size", required_argument, NULL, OPT_MAX_RECV},
	{"input", required_argument, NULL, OPT_INPUT},
	{"reliable", no_argument, NULL, OPT_RELIABLE},
	{"from-seq", required_argument, NULL, OPT_FROM_SEQ},
	{"debug", no_argument, NULL, 'd'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: vigil getevents [options]      (tetra getevents' flags; events come from the bus,\n"
		   "                                       or from standard input when it is a file or a pipe\n"
		   "                                       and no --bus/--server-address is given, or --input)\n"
		   "  -o, --output json|compact   output format (default json)\n"
		   "      --process REGEX,...     only processes whose binary matches one (repeatable)\n"
		   "      --policy-names NAME,... only events of these policies\n"
		   "      --host                  only host processes (no pod namespace)\n"
		   "      --namespace-regex RE,... only processes whose pod namespace matches (\"\" on the host)\n"
		   "  -n, --namespace NS,...      only events of pods in these namespaces (repeatable)\n"
		   "      --pod REGEX,...         only events of pods whose name matches one (repeatable)\n"
		   "      --container REGEX,...   only events of containers whose id (process.docker) matches one\n"
		   "      --pid N                 only this pid\n"
		   "  -e, --event-types LIST      comma-separated: PROCESS_EXEC,... (or exec,exit,...)\n"
		   "  -f, --include-fields F,...  keep only these fields (process.binary,parent.pid,...)\n"
		   "  -F, --exclude-fields F,...  remove these fields\n"
		   "      --bus URL               event bus (default %s)\n"
		   "      --input FILE            read events from an export file (\"-\": standard input)\n"
		   "      --color auto|always|never\n"
		   "      --timestamps            prefix compact lines with the event time\n"
		   "      --count N               exit after N events\n"
		   "      --duration D            exit after D (\"90s\", \"5m\", seconds)\n"
		   "      --timeout D             as tetra: how long to wait for the agent to answer (\"30s\");\n"
		   "                              checked at --server-address when given\n"
		   "      --server-address URL    the agent's control socket (default %s; unix:///PATH);\n"
		   "                              HOST:PORT: its mutual-TLS listener, which also relays the\n"
		   "                              events (with --tls-ca-cert-files, --tls-cert-file,\n"
		   "                              --tls-key-file, --tls-server-name, --tls-skip-verify)\n"
		   "      --retries N             connection attempts after the first (with --timeout)\n"
		   "      --reconnect[=BOOL], --reconnect-wait D  the bus always reconnects; D is its interval\n"
		   "      --max-recv-size BYTES   largest message accepted from the bus\n"
		   "      --stack-traces[=BOOL], --ima-hash[=BOOL]  shown when events carry them (default true)\n"
		   "      --allow JSON|@FILE      only events matching one of these Tetragon Filter objects\n"
		   "      --deny JSON|@FILE       never events matching one of these (deny wins; both repeatable)\n"
		   "      --field-filters JSON|@FILE  include/exclude fields per event type (-o json)\n"
		   "      --cel-expression EXPR   only events for which this CEL expression is true, as in\n"
		   "                              tetra (repeatable: any may be true; each value is one\n"
		   "                              whole expression)\n"
		   "      --reliable              read the agent's journal at --server-address instead of the\n"
		   "                              bus: nothing is lost while this reader lags, up to the\n"
		   "                              journal's bound (vigild --journal-dir; needs root)\n"
		   "      --from-seq N            the journal from seq N of the agent's current incarnation\n"
		   "                              (0: the oldest kept; default with --reliable: from now)\n"
		   "  -d, --debug                 debug messages\n"
		   "Gaps (events the agent published that this reader never got) are reported on stderr,\n"
		   "with a total at exit.\n"
		   "  -t, --tty-encode TTY        only what was written to the tty file TTY (process_kprobe\n"
		   "                              events with a file then a bytes argument), raw\n",
		VIGIL_BUS_DEFAULT_EVENTS, VIGIL_BUS_DEFAULT_CONTROL);
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
	return tetra_filter_match(&f->tetra, m);
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

/* What printing one event needs, for the bus and for an export file alike. */
struct printer {
	struct vigil_filter *pods;	/* --namespace, --pod, --container as one Filter object */
	struct vigil_filter *cel;	/* --cel-expression: one Filter object's cel_expression */
	const struct filter *f;
	struct vigil_filter *allow, *deny;
	struct vigil_field_filter *fields;
	struct vigil_compact_opts copts;
	bool json;
	const char *tty;		/* -t/--tty-encode: only this tty's written bytes, raw */
	long count;			/* < 0: no limit */
	struct vigil_buf line;
};

/* tetra's -t TTY (its TtyEncoder): a process_kprobe event whose first argument is a file at
 * TTY and whose second is bytes (a tty_write hook, say) has those bytes written raw to
 * standard output; every other event prints nothing. true when m was such an event. */
static bool emit_tty(const char *tty, const msgpack_object *root)
{
	const msgpack_object *k = root ? vigil_msgpack_get(root, "process_kprobe") : NULL;
	const msgpack_object *args = k ? vigil_msgpack_get(k, "args") : NULL, *file, *path, *bytes;
	char *raw;
	int n;

	if (!args || args->type != MSGPACK_OBJECT_ARRAY || args->via.array.size < 2)
		return false;
	file = vigil_msgpack_get(&args->via.array.ptr[0], "file_arg");
	path = file ? vigil_msgpack_get(file, "path") : NULL;
	bytes = vigil_msgpack_get(&args->via.array.ptr[1], "bytes_arg");
	if (!path || path->type != MSGPACK_OBJECT_STR || strlen(tty) != path->via.str.size ||
	    memcmp(tty, path->via.str.ptr, path->via.str.size) || !bytes || bytes->type != MSGPACK_OBJECT_STR)
		return false;
	raw = malloc(bytes->via.str.size + 1);
	n = raw ? vigil_base64_decode(bytes->via.str.ptr, bytes->via.str.size, raw, bytes->via.str.size + 1) : -ENOMEM;
	if (n > 0) {
		fwrite(raw, 1, (size_t)n, stdout);
		fflush(stdout);
	}
	free(raw);
	return n >= 0;
}

/* Filter and print one decoded event. Lines are flushed by the loops when they wait: a
 * write(2) a burst, not a line (on our VMs a write cost as much as the line's JSON). */
static void emit(struct printer *pr, const struct vigil_msg *m)
{
	const msgpack_object *root;

	if (!matches(pr->f, m) || (pr->pods && !vigil_filter__match(pr->pods, m)) ||
	    (pr->cel && !vigil_filter__match(pr->cel, m)) ||
	    !vigil_filter__pass(pr->allow, pr->deny, m))
		return;
	if (pr->tty) {
		if (emit_tty(pr->tty, vigil_msg__root(m)) && pr->count > 0)
			pr->count--;
		return;
	}
	vigil_buf_reset(&pr->line);
	root = pr->json && pr->fields ? vigil_field_filter__apply(pr->fields, m) : vigil_msg__root(m);
	if (root && !(pr->json ? vigil_json_from_msgpack(root, &pr->line) : vigil_msg__to_compact(m, &pr->copts, &pr->line))) {
		fwrite(pr->line.data, 1, pr->line.len, stdout);
		fputc('\n', stdout);
		if (pr->count > 0)
			pr->count--;
	}
}

/* vigil_journal_msg_fn, and the bus loop's: decode, filter, print one message. Returns 1
 * once --count events were printed. */
static int emit_bytes(void *ctx, uint64_t seq, const void *data, size_t len)
{
	struct printer *pr = ctx;
	struct vigil_msg *m = vigil_msg__decode(data, len);

	if (!m) {
		fprintf(stderr, "vigil getevents: dropped a malformed message (%zu bytes)\n", len);
		return 0;
	}
	emit(pr, m);
	vigil_msg__free(m);
	return pr->count == 0;
}

/* A hole in the stamps' sequence: the agent published these and they never arrived. */
static void on_gap(void *ctx, uint64_t incarnation, uint64_t first, uint64_t last)
{
	fprintf(stderr, "vigil getevents: missed %" PRIu64 " events (seq %" PRIu64 "..%" PRIu64
		" of agent incarnation %016" PRIx64 "): this subscriber fell behind\n",
		last - first + 1, first, last, incarnation);
}

/* The totals, on stderr at exit, once anything arrived. */
static void report_delivery(const struct vigil_delivery *d)
{
	if (!d->received && !d->missed)
		return;
	fprintf(stderr, "vigil getevents: missed %" PRIu64 " events in %" PRIu64 " gaps; %" PRIu64
		" received, %" PRIu64 " agent restarts seen; seq %" PRIu64 "..%" PRIu64 " of incarnation %016" PRIx64 "\n",
		d->missed, d->gaps, d->received, d->restarts, d->first_seq, d->last_seq, d->incarnation);
}

static long elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* Flush what was printed: 0, -EPIPE when nobody reads it any more (a closed pipe: `| head
 * -1`; ended silently, as SIGPIPE would), or -1 when it cannot be written (said why). */
static int flush_out(void)
{
	int err;

	if (!fflush(stdout))
		return 0;
	err = errno;
	if (err == EPIPE)
		return -EPIPE;
	fprintf(stderr, "vigil getevents: cannot write the events: %s\n", strerror(err));
	return -1;
}

/* --reliable: pull from the agent's journal until stopped, --count or --duration. The
 * agent may not be up yet (or restart): keep asking; a refusal ends it. 0 or 1. */
static int read_journal(struct vigil_reader *r, const char *control, struct printer *pr, long duration,
			const struct timespec *start)
{
	int n, err;

	vigil_reader__on_gap(r, on_gap, NULL);
	while (!stopping && pr->count != 0) {
		if (duration > 0 && elapsed_ms(start) >= duration)
			break;
		n = vigil_reader__pull(r, emit_bytes, pr);
		err = flush_out();
		if (err)
			return err == -EPIPE ? 0 : 1;
		if (n == -EACCES || n == -EPROTO || n == -EBADMSG) {
			fprintf(stderr, "vigil getevents: cannot read the journal at %s: %s\n", control,
				n == -EACCES ? (vigil_bus_tls_address(control) ? "permission denied (needs a certificate named "
						"in the agent's --server-tls-events-names)" : "permission denied (needs root)") :
				n == -EPROTO ? "refused (is vigild running with --journal-dir?)" : "malformed reply");
			return 1;
		}
		/* nothing new (or no agent): wait a little; a full batch: ask again at once */
		if (n <= 0)
			usleep(n == 0 ? 50000 : 200000);
	}
	return 0;
}

/* `vigil getevents -o compact < events.json`: an export file, line by line. Lines that are
 * no event (not JSON, or a kind vigil cannot read) are skipped and counted on stderr. */
static int read_file(struct printer *pr, FILE *in, const char *name)
{
	struct vigil_buf scratch = {0};
	struct vigil_msg *m;
	char *line = NULL;
	size_t cap = 0;
	unsigned long bad = 0, lineno = 0, first_bad = 0;

	while (!stopping && pr->count != 0) {
		m = tetra_read_event(in, &line, &cap, &scratch);
		lineno++;
		if (!m && !errno)
			break;
		if (!m) {
			if (!bad++)
				first_bad = lineno;
			continue;
		}
		emit(pr, m);
		vigil_msg__free(m);
		if (flush_out())	/* a line as it comes: the file may be a pipe that is being written */
			break;
	}
	if (bad)
		fprintf(stderr, "vigil getevents: %s: skipped %lu line%s that %s no event vigil reads (first: line %lu)\n",
			name, bad, bad == 1 ? "" : "s", bad == 1 ? "is" : "are", first_bad);
	free(line);
	vigil_buf_free(&scratch);
	return 0;
}

/* tetra's --timeout: give up when the agent does not answer within it (and --retries more
 * times). Only when asked: a subscriber may well start before its agent. */
static int wait_agent(const char *control, long timeout_ms, long retries)
{
	static const char req[] = "\x81\xa3" "cmd" "\xa6" "status";	/* msgpack {"cmd": "status"} */
	struct cli_reply reply;
	int err = -ETIMEDOUT;
	long i;

	for (i = 0; i <= retries && err; i++) {
		err = cli_request_quiet(control, req, sizeof(req) - 1, (int)timeout_ms, &reply);
		cli_reply_free(&reply);
	}
	if (err)
		fprintf(stderr, "vigil getevents: no agent answered at %s within %ld ms (%ld attempt%s): %s\n", control,
			timeout_ms, retries + 1, retries ? "s" : "", strerror(-err));
	return err ? 1 : 0;
}

/* tetra reads standard input when it is not a terminal or other character device. */
static bool stdin_has_events(void)
{
	struct stat st;

	return !fstat(STDIN_FILENO, &st) && !S_ISCHR(st.st_mode);
}

/* Add the comma-separated values of list (tetra's string slices) to the key list of the
 * pod filter object; an empty list is the value "". 0 or -ENOMEM. */
static int kube_add(json_t **kube, const char *key, const char *list)
{
	char *copy = strdup(list), *save = NULL, *tok;
	json_t *values;
	int err = 0;

	if (!*kube)
		*kube = json_object();
	if (!copy || !*kube) {
		free(copy);
		return -ENOMEM;
	}
	values = json_object_get(*kube, key);
	if (!values) {
		values = json_array();
		if (!values || json_object_set_new(*kube, key, values))
			err = -ENOMEM;
	}
	/* tetra's --namespace "": events outside pods */
	if (!err && !list[0])
		err = json_array_append_new(values, json_string("")) ? -ENOMEM : 0;
	for (tok = strtok_r(copy, ",", &save); !err && tok; tok = strtok_r(NULL, ",", &save))
		err = json_array_append_new(values, json_string(tok)) ? -ENOMEM : 0;
	free(copy);
	return err;
}

static int refuse(const char *opt, const char *why)
{
	fprintf(stderr, "vigil getevents: --%s is not supported: %s\n", opt, why);
	return 2;
}

/* What the command line asked for, beyond the printer and the event filter. */
struct getevents_args {
	struct vigil_reader_opts ropts;
	struct vigil_buf ftext[3];	/* --allow, --deny, --field-filters (and -f/-F) */
	const char *url, *color, *control, *input;
	bool reliable, source_given, bus_given;
	struct vigil_tls_client *tls;	/* --server-address HOST:PORT: its identity */
	long duration, timeout_ms, retries, reconnect_ms, max_recv;
	json_t *kube;			/* --namespace, --pod, --container */
	json_t *cel;			/* --cel-expression: the expressions */
};

/* --cel-expression: compiled here for its message (the column in the expression), kept for
 * the filter object built with the others. tetra's flag is a string slice, which splits a
 * value at commas (and so breaks `args.exists(a, ...)`); here each value is one expression. */
static int cel_add(struct getevents_args *a, const char *expr)
{
	struct vigil_cel_error err;
	struct vigil_cel *p = vigil_cel__compile(expr, &err);

	if (!p) {
		if (errno == ENOMEM)
			fprintf(stderr, "vigil getevents: --cel-expression: %s\n", strerror(errno));
		else if (err.column)
			fprintf(stderr, "vigil getevents: --cel-expression: column %d: %s\n", err.column, err.reason);
		else
			fprintf(stderr, "vigil getevents: --cel-expression: %s\n", err.reason);
		return 2;
	}
	vigil_cel__free(p);
	if (!a->cel)
		a->cel = json_array();
	if (!a->cel || json_array_append_new(a->cel, json_string(expr))) {
		fprintf(stderr, "vigil getevents: --cel-expression: %s\n", strerror(ENOMEM));
		return 1;
	}
	return 0;
}

/* A parse_*_option's answer for an option that another one parses. */
#define NOT_MINE (-1)

static int bad(const char *opt)
{
	return cli_bad_value("getevents", opt, optarg);
}

/* Options that choose events: process, pod, pid, type, fields and filter objects. */
static int parse_filter_option(int c, struct getevents_args *a, struct filter *f)
{
	long v;

	switch (c) {
	case OPT_PROCESS: return tetra_filter_add_process(&f->tetra, optarg) ? bad("process") : 0;
	case OPT_NS_REGEX: return tetra_filter_add_ns_regex(&f->tetra, optarg) ? bad("namespace-regex") : 0;
	case OPT_POLICY_NAMES: return tetra_filter_add_policies(&f->tetra, optarg) ? bad("policy-names") : 0;
	case OPT_HOST: f->tetra.host = true; return 0;
	case 'n': return kube_add(&a->kube, "namespace", optarg) ? bad("namespace") : 0;
	case OPT_POD: return kube_add(&a->kube, "pod_regex", optarg) ? bad("pod") : 0;
	case OPT_CONTAINER: return kube_add(&a->kube, "container_id", optarg) ? bad("container") : 0;
	case OPT_PID:
		if (vigil_parse_long(optarg, 0, UINT32_MAX, &v))
			return bad("pid");
		f->has_pid = true;
		f->pid = (uint32_t)v;
		return 0;
	case 'e': return parse_types(optarg, f) ? bad("event-types") : 0;
	case 'f': return tetra_field_mask(&a->ftext[2], optarg, true) ? bad("include-fields") : 0;
	case 'F': return tetra_field_mask(&a->ftext[2], optarg, false) ? bad("exclude-fields") : 0;
	case OPT_ALLOW: return add_filter_text(&a->ftext[0], optarg) ? bad("allow") : 0;
	case OPT_DENY: return add_filter_text(&a->ftext[1], optarg) ? bad("deny") : 0;
	case OPT_FIELD_FILTERS: return add_filter_text(&a->ftext[2], optarg) ? bad("field-filters") : 0;
	case OPT_CEL: return cel_add(a, optarg);
	}
	return NOT_MINE;
}

/* tetra's duration options ("5s", "100ms"), at least a millisecond. */
static int parse_duration(const char *opt, long *out)
{
	long v;

	if (tetra_duration_ms(optarg, &v) || v < 1)
		return bad(opt);
	*out = v;
	return 0;
}

/* Options that choose where events come from and how long to wait for them. */
static int parse_source_option(int c, struct getevents_args *a)
{
	long v;

	switch (c) {
	case OPT_BUS: a->url = optarg; a->source_given = a->bus_given = true; return 0;
	case OPT_SERVER: a->control = optarg; a->source_given = true; return 0;
	case OPT_INPUT: a->input = optarg; return 0;
	case OPT_RELIABLE: a->reliable = true; a->source_given = true; return 0;
	case OPT_FROM_SEQ:
		if (vigil_parse_long(optarg, 0, LONG_MAX, &v))
			return bad("from-seq");
		a->ropts.start = v ? VIGIL_READER_SEQ : VIGIL_READER_OLDEST;
		a->ropts.from_seq = (uint64_t)v;
		a->reliable = true;
		a->source_given = true;
		return 0;
	case OPT_DURATION: return parse_duration("duration", &a->duration);
	case OPT_TIMEOUT: return parse_duration("timeout", &a->timeout_ms);
	case OPT_RECONNECT_WAIT: return parse_duration("reconnect-wait", &a->reconnect_ms);
	case OPT_RETRIES: return vigil_parse_long(optarg, 0, 1000, &a->retries) ? bad("retries") : 0;
	case OPT_MAX_RECV: return vigil_parse_long(optarg, 1024, INT32_MAX, &a->max_recv) ? bad("max-recv-size") : 0;
	}
	return NOT_MINE;
}

/* Options about the output, and tetra's options that vigil accepts without effect or refuses. */
static int parse_output_option(int c, struct getevents_args *a, struct printer *pr)
{
	bool flag;

	switch (c) {
	case 'o':
		if (strcmp(optarg, "json") && strcmp(optarg, "compact"))
			return bad("output");
		pr->json = !strcmp(optarg, "json");
		return 0;
	case OPT_COLOR:
		if (strcmp(optarg, "auto") && strcmp(optarg, "always") && strcmp(optarg, "never"))
			return bad("color");
		a->color = optarg;
		return 0;
	case OPT_TIMESTAMPS: pr->copts.timestamps = true; return 0;
	case OPT_COUNT: return vigil_parse_long(optarg, 1, LONG_MAX, &pr->count) ? bad("count") : 0;
	/* vigil's events carry no stack trace or IMA hash yet: with either value the output
	 * is what tetra prints for such events */
	case OPT_STACK_TRACES:
	case OPT_IMA_HASH:
	case OPT_RECONNECT:
		if (optarg && tetra_bool(optarg, &flag))
			return bad(c == OPT_STACK_TRACES ? "stack-traces" : c == OPT_IMA_HASH ? "ima-hash" : "reconnect");
		if (c == OPT_RECONNECT && optarg && !flag)
			return refuse("reconnect=false", "the bus subscription always reconnects (nanomsg)");
		return 0;
	case 't':
		if (!*optarg)
			return bad("tty-encode");
		pr->tty = optarg;
		return 0;
	case 'd': vigil_print_set_debug(1); return 0;
	}
	return NOT_MINE;
}

/* The command line into a, pr and f. 0 to go on; otherwise the exit code (*help: exit 0 after usage). */
static int parse_args(int argc, char **argv, struct getevents_args *a, struct printer *pr, struct filter *f,
		      bool *help)
{
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:e:f:F:t:n:dh", options, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			*help = true;
			return 0;
		}
		rc = parse_filter_option(c, a, f);
		if (rc == NOT_MINE)
			rc = parse_source_option(c, a);
		if (rc == NOT_MINE)
			rc = parse_output_option(c, a, pr);
		if (rc == NOT_MINE) {
			usage(stderr);
			return 2;
		}
		if (rc)
			return rc;
	}
	if (optind < argc) {
		fprintf(stderr, "vigil getevents: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	return 0;
}

/* The filter objects and the pod filter compiled into pr. 0, or the usage exit code. */
static int build_filters(struct getevents_args *a, struct printer *pr)
{
	int rc = compile_filters(a->ftext, &pr->allow, &pr->deny, &pr->fields);

	if (!rc && a->kube) {
		char *text = json_dumps(a->kube, JSON_COMPACT);
		struct vigil_export_error err;

		pr->pods = text ? vigil_filter__new_json(text, &err) : NULL;
		if (!pr->pods) {
			fprintf(stderr, "vigil getevents: %s\n", text && errno == EINVAL ? err.reason : strerror(errno));
			rc = 2;
		}
		free(text);
	}
	if (!rc && a->cel) {
		json_t *obj = json_pack("{sO}", "cel_expression", a->cel);
		char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
		struct vigil_export_error err;

		pr->cel = text ? vigil_filter__new_json(text, &err) : NULL;
		if (!pr->cel) {
			fprintf(stderr, "vigil getevents: --cel-expression: %s\n",
				text && errno == EINVAL ? err.reason : strerror(errno));
			rc = 2;
		}
		free(text);
		json_decref(obj);
	}
	return rc;
}

/* Events a CEL expression could not be evaluated on were not shown: say so at exit. */
static void report_cel_errors(const struct printer *pr)
{
	struct vigil_filter *lists[] = {pr->cel, pr->allow, pr->deny};
	static const char *const names[] = {"--cel-expression", "--allow", "--deny"};
	const char *last;
	uint64_t n;
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(lists); i++) {
		n = vigil_filter__cel_errors(lists[i], &last);
		if (n)
			fprintf(stderr, "vigil getevents: %s: %" PRIu64 " event%s matched nothing because a CEL "
				"expression failed on %s (last: %s)\n", names[i], n, n == 1 ? "" : "s",
				n == 1 ? "it" : "them", last);
	}
}

/* Print the export file (or standard input, "-") named input. */
static int print_input(struct printer *pr, const char *input)
{
	FILE *in = strcmp(input, "-") ? fopen(input, "re") : stdin;
	int rc;

	if (!in) {
		fprintf(stderr, "vigil getevents: cannot open %s: %s\n", input, strerror(errno));
		return 1;
	}
	rc = read_file(pr, in, strcmp(input, "-") ? input : "standard input");
	if (in != stdin)
		fclose(in);
	return rc;
}

/* Print what the bus publishes until a signal, --count or --duration. */
static int follow_bus(struct vigil_sub *sub, const struct getevents_args *a, struct printer *pr,
		      const struct timespec *start)
{
	int err;

	if (a->reconnect_ms > 0)
		vigil_sub__set(sub, VIGIL_SUB_RECONNECT_MS, (int)a->reconnect_ms);
	if (a->max_recv > 0)
		vigil_sub__set(sub, VIGIL_SUB_MAX_MESSAGE, (int)a->max_recv);
	vigil_sub__on_gap(sub, on_gap, NULL);
	/* a burst's lines in one write: flushed below when nothing more waits */
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	while (!stopping && pr->count != 0) {
		void *data = NULL;
		int n = vigil_sub__recv(sub, &data);

		if (a->duration > 0 && elapsed_ms(start) >= a->duration) {
			vigil_bus_msg_free(data);
			break;
		}
		if (n == -ETIMEDOUT || n == -EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "vigil getevents: receive failed: %s\n",
				n == -EPROTO && a->tls ? vigil_tls_client__error(a->tls) : strerror(-n));
			return 1;
		}
		emit_bytes(pr, 0, data, (size_t)n);
		vigil_bus_msg_free(data);
		if ((pr->count == 0 || vigil_sub__wait(sub, 0) != 1) && (err = flush_out()))
			return err == -EPIPE ? 0 : 1;
	}
	err = flush_out();
	return err && err != -EPIPE;
}

/* SIGINT and SIGTERM end the loops (stopping); a closed pipe is a write error, not death. */
static void catch_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* --server-address HOST:PORT: the agent's TLS listener, for requests and the stream. 0, or
 * the exit status after saying why. */
static int choose_tls(const char *control, struct vigil_tls_client **tls)
{
	if (!vigil_bus_tls_address(control))
		return cli_tls_unused("getevents", control);
	*tls = cli_tls_client("getevents");
	return *tls ? 0 : 1;
}

static void free_all(struct getevents_args *a, struct printer *pr, struct filter *f)
{
	int i;

	vigil_buf_free(&pr->line);
	tetra_filter_free(&f->tetra);
	vigil_filter__free(pr->allow);
	vigil_filter__free(pr->deny);
	vigil_filter__free(pr->pods);
	vigil_filter__free(pr->cel);
	json_decref(a->cel);
	json_decref(a->kube);
	vigil_field_filter__free(pr->fields);
	for (i = 0; i < 3; i++)
		vigil_buf_free(&a->ftext[i]);
}

int cmd_getevents(int argc, char **argv)
{
	struct printer pr = {.count = -1, .json = true};
	struct filter f = {0};
	struct getevents_args a = {
		.ropts = {.sz = sizeof(a.ropts), .start = VIGIL_READER_NOW},
		.url = VIGIL_BUS_DEFAULT_EVENTS, .color = "auto", .control = VIGIL_BUS_DEFAULT_CONTROL,
		.duration = -1, .timeout_ms = -1, .reconnect_ms = -1, .max_recv = -1,
	};
	struct vigil_sub *sub = NULL;
	struct vigil_reader *reader = NULL;
	struct vigil_tls_client *tls = NULL;
	struct timespec start;
	bool help = false;
	int rc;

	rc = parse_args(argc, argv, &a, &pr, &f, &help);
	if (!rc && !help)
		rc = build_filters(&a, &pr);
	if (rc || help)
		goto out;
	pr.f = &f;
	pr.copts.color = !strcmp(a.color, "always") || (!strcmp(a.color, "auto") && isatty(STDOUT_FILENO));

	catch_signals();
	rc = choose_tls(a.control, &tls);
	if (rc)
		goto out;
	a.ropts.tls = a.tls = tls;
	if (!a.input && !a.source_given && stdin_has_events())
		a.input = "-";
	if (a.input) {
		rc = print_input(&pr, a.input);
		goto out;
	}
	if (a.timeout_ms > 0) {
		rc = wait_agent(a.control, a.timeout_ms, a.retries);
		if (rc)
			goto out;
	}

	clock_gettime(CLOCK_MONOTONIC, &start);
	if (a.reliable) {
		reader = vigil_reader__open(a.control, &a.ropts);
		if (!reader) {
			fprintf(stderr, "vigil getevents: %s\n", strerror(errno));
			rc = 1;
			goto out;
		}
		rc = read_journal(reader, a.control, &pr, a.duration, &start);
		goto out;
	}
	/* a short receive timeout lets signals and --duration be noticed; over TLS the
	 * agent relays its bus (--bus, when given, is still subscribed to directly) */
	if (tls && !a.bus_given)
		a.url = a.control;
	sub = tls && !a.bus_given ? vigil_sub__open_tls(tls, a.control, 200) : vigil_sub__open(a.url, 200);
	if (!sub) {
		fprintf(stderr, "vigil getevents: cannot subscribe to %s: %s\n", a.url, strerror(errno));
		rc = 1;
		goto out;
	}
	rc = follow_bus(sub, &a, &pr, &start);
out:
	if (sub || reader) {
		struct vigil_delivery d;

		if (sub)
			vigil_sub__delivery(sub, &d);
		else
			vigil_reader__delivery(reader, &d);
		report_delivery(&d);
	}
	report_cel_errors(&pr);
	vigil_sub__close(sub);
	vigil_reader__close(reader);
	free_all(&a, &pr, &f);
	return rc;
}

/* top.c - `vigil top`: a live view of event rates per policy and per binary, from the
 * agent's metrics (the control socket's "metrics" command, the text /metrics serves),
 * refreshed in place with plain ANSI; q quits. --once prints one table and exits. */
#include <errno.h>
#include <getopt.h>
#include <msgpack.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "bus/bus.h"
#include "cli.h"
#include "metrics/metrics.h"

enum row_kind { ROW_POLICY, ROW_BINARY, ROW_TYPE };

struct row {
	enum row_kind kind;
	char *key;
	double total, prev;
	bool seen;		/* in the latest sample */
};

struct top {
	struct row *rows;
	size_t n;
	/* loss and throughput, whole-agent counters */
	double missed, bus_dropped, rate_limited, records, prev_records;
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	stopping = 1;
}

static struct row *row_of(struct top *t, enum row_kind kind, const char *key)
{
	struct row *grown;
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->rows[i].kind == kind && !strcmp(t->rows[i].key, key))
			return &t->rows[i];
	grown = realloc(t->rows, (t->n + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	t->rows = grown;
	memset(&t->rows[t->n], 0, sizeof(t->rows[t->n]));
	t->rows[t->n].kind = kind;
	t->rows[t->n].key = strdup(key);
	if (!t->rows[t->n].key)
		return NULL;
	return &t->rows[t->n++];
}

static const char *label(const struct vigil_metrics_label *l, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(l[i].name, name))
			return l[i].value;
	return "";
}

static void add(struct top *t, enum row_kind kind, const char *key, double v)
{
	struct row *r = row_of(t, kind, key);

	if (r) {
		r->total += v;
		r->seen = true;
	}
}

static int on_sample(void *ctx, const char *name, const struct vigil_metrics_label *l, size_t n, double v)
{
	struct top *t = ctx;

	if (!strcmp(name, "vigil_events_total")) {
		add(t, ROW_BINARY, label(l, n, "binary"), v);
		add(t, ROW_TYPE, label(l, n, "type"), v);
		if (*label(l, n, "policy"))
			add(t, ROW_POLICY, label(l, n, "policy"), v);
	} else if (!strcmp(name, "vigil_bpf_missed_events_total")) {
		t->missed += v;
	} else if (!strcmp(name, "vigil_bus_dropped_total")) {
		t->bus_dropped += v;
	} else if (!strcmp(name, "vigil_export_ratelimit_events_dropped_total")) {
		t->rate_limited += v;
	} else if (!strcmp(name, "vigil_ringbuf_records_received_total")) {
		t->records += v;
	}
	return 0;
}

static const msgpack_object *map_get(const msgpack_object *map, const char *key)
{
	uint32_t i;

	if (map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < map->via.map.size; i++) {
		const msgpack_object_kv *kv = &map->via.map.ptr[i];

		if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == strlen(key) &&
		    !memcmp(kv->key.via.str.ptr, key, kv->key.via.str.size))
			return &kv->val;
	}
	return NULL;
}

/* Ask the agent for its metrics and fold them into t (rows' previous totals kept). */
static int sample(struct top *t, const char *url)
{
	static const char request[] = "\x81\xa3" "cmd" "\xa7" "metrics";	/* {"cmd": "metrics"} */
	struct cli_reply reply;
	const msgpack_object *text;
	size_t i;
	int err;

	err = cli_request_quiet(url, request, sizeof(request) - 1, 3000, &reply);
	if (err) {
		cli_reply_free(&reply);
		return err;
	}
	for (i = 0; i < t->n; i++) {
		t->rows[i].prev = t->rows[i].total;
		t->rows[i].total = 0;
		t->rows[i].seen = false;
	}
	t->prev_records = t->records;
	t->missed = t->bus_dropped = t->rate_limited = t->records = 0;
	err = -EBADMSG;
	text = map_get(reply.root, "text");
	if (text && text->type == MSGPACK_OBJECT_STR)
		err = vigil_metrics_parse(text->via.str.ptr, text->via.str.size, on_sample, t, NULL);
	cli_reply_free(&reply);
	return err;
}

static double rate(const struct row *r, double secs)
{
	return r->total >= r->prev ? (r->total - r->prev) / secs : 0;
}

static double sort_secs = 1;

static int by_rate(const void *a, const void *b)
{
	const struct row *x = *(struct row *const *)a, *y = *(struct row *const *)b;
	double rx = rate(x, sort_secs), ry = rate(y, sort_secs);

	if (rx != ry)
		return rx < ry ? 1 : -1;
	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return strcmp(x->key, y->key);
}

static void print_kind(struct top *t, enum row_kind kind, const char *title, double secs, size_t max)
{
	struct row **v = calloc(t->n ? t->n : 1, sizeof(*v));
	size_t n = 0, i;

	if (!v)
		return;
	for (i = 0; i < t->n; i++)
		if (t->rows[i].kind == kind && t->rows[i].seen)
			v[n++] = &t->rows[i];
	sort_secs = secs;
	qsort(v, n, sizeof(*v), by_rate);
	printf("\n%-60s %12s %12s\n", title, "EVENTS/S", "TOTAL");
	for (i = 0; i < n && i < max; i++)
		printf("%-60.60s %12.1f %12.0f\n", v[i]->key[0] ? v[i]->key : "(none)", rate(v[i], secs), v[i]->total);
	if (!n)
		printf("(none)\n");
	free(v);
}

static void print(struct top *t, double secs, size_t max, bool ansi, const char *url)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	if (ansi)
		printf("\033[H\033[2J");
	printf("vigil top  %s  %s  every %.1f s%s\n", url, when, secs, ansi ? "  (q quits)" : "");
	printf("records/s %.1f   lost in kernel (ring buffer full) %.0f   bus dropped %.0f   export rate-limited %.0f\n",
	       t->records >= t->prev_records ? (t->records - t->prev_records) / secs : 0, t->missed, t->bus_dropped,
	       t->rate_limited);
	print_kind(t, ROW_TYPE, "TYPE", secs, max);
	print_kind(t, ROW_POLICY, "POLICY", secs, max);
	print_kind(t, ROW_BINARY, "BINARY", secs, max);
	fflush(stdout);
}

/* Wait up to ms for 'q' on a terminal; true when asked to quit. */
static bool wait_key(int ms, bool tty)
{
	struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
	char c;

	if (!tty) {
		struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

		nanosleep(&ts, NULL);
		return stopping;
	}
	if (poll(&p, 1, ms) > 0 && read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q'))
		return true;
	return stopping;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vigil top [options]\n"
		   "      --control URL       the agent's control socket (default %s)\n"
		   "  -i, --interval SECONDS  refresh every SECONDS, 1-3600 (default 1)\n"
		   "  -n, --rows N            rows per table (default 15)\n"
		   "      --once              print one table (rates over one interval) and exit\n",
		VIGIL_BUS_DEFAULT_CONTROL);
}

int cmd_top(int argc, char **argv)
{
	static const struct option options[] = {
		{"control", required_argument, NULL, 'c'},
		{"interval", required_argument, NULL, 'i'},
		{"rows", required_argument, NULL, 'n'},
		{"once", no_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *url = VIGIL_BUS_DEFAULT_CONTROL;
	struct sigaction sa = {.sa_handler = on_signal};
	struct termios saved, raw;
	struct top t = {0};
	bool once = false, tty;
	long interval = 1, rows = 15;
	size_t i;
	int c, err, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "i:n:h", options, NULL)) != -1) {
		switch (c) {
		case 'c': url = optarg; break;
		case 'i':
			if (vigil_parse_long(optarg, 1, 3600, &interval))
				return cli_bad_value("top", "interval", optarg);
			break;
		case 'n':
			if (vigil_parse_long(optarg, 1, 10000, &rows))
				return cli_bad_value("top", "rows", optarg);
			break;
		case 'o': once = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	tty = !once && isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &saved);
	if (tty) {
		raw = saved;
		raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	err = sample(&t, url);
	while (!err) {
		if (wait_key((int)interval * 1000, tty))
			break;
		err = sample(&t, url);
		if (err)
			break;
		print(&t, (double)interval, (size_t)rows, !once, url);
		if (once)
			break;
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	if (err) {
		fprintf(stderr, "vigil top: no metrics from the agent at %s: %s\n", url,
			err == -ETIMEDOUT ? "timed out (is vigild running?)" : strerror(-err));
		rc = 1;
	}
	for (i = 0; i < t.n; i++)
		free(t.rows[i].key);
	free(t.rows);
	return rc;
}

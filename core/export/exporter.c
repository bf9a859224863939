/* exporter.c - the agent's export pipeline: allow/deny lists, the rate limit (drops
 * reported as rate_limit_info events), field filters, then one JSON line in the rotating
 * file. Runs on the reader thread; counters are atomics for the metrics and control
 * threads. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"
#include "export_ratelimit.h"
#include "pcache/pcache.h"

#define DEFAULT_REPORT_NS 10000000000ULL
#define MAX_WALK 128

struct vigil_exporter {
	struct vigil_export_file *file;
	struct vigil_filter *allow, *deny;
	struct vigil_field_filter *fields;
	bool limited;
	struct export_rate rate;
	uint64_t pending_drops;			/* not yet reported in a rate_limit_info event */
	uint64_t last_report_ns;
	uint64_t report_ns;
	char node_name[128];
	struct vigil_pcache *cache;
	const struct vigil_event *cur;		/* the event being written, for pid_set */
	struct vigil_buf line;
	struct vigil_buf pack;
	enum vigil_export_own own;
	struct vigil_export_file_opts own_opts;	/* own_opts.path points at own_path */
	char own_path[4096];
	struct vigil_export_file *own_file;	/* opened by the first own event */
	msgpack_zone zone;			/* stripped copies of the current line */
	bool zone_ready;
	msgpack_object stripped_root;

	_Atomic uint64_t events, exported, filtered, rate_limited, errors, own_written, own_bus_only, stripped;
	_Atomic uint64_t cel_errors;	/* the lists' cel_expression failures (their counts, for other threads) */
	/* per rate limit slot, for the stats: the type is published before the count */
	_Atomic int slot_type[VIGIL_EXPORT_RATE_TYPES];
	_Atomic uint64_t slot_dropped[VIGIL_EXPORT_RATE_TYPES];
	_Atomic size_t nslots;
};

/* pid_set's ancestors from the process cache, parents first, by peeking: walking off the
 * top of a tree is not a cache miss. */
static size_t cache_ancestors(void *ctx, const struct vigil_msg *m, uint32_t *pids, size_t max)
{
	struct vigil_exporter *x = ctx;
	const struct vigil_process *p = x->cur ? x->cur->process : NULL;
	size_t k = 0;

	while (p && p->ppid && k < max && k < MAX_WALK) {
		pids[k++] = p->ppid;	/* known even when the parent's entry is gone */
		p = vigil_pcache__peek(x->cache, p->ppid, p->pktime);
	}
	return k;
}

/* "--export-allowlist: <reason>" */
static void name_option(struct vigil_export_error *err, const char *opt)
{
	char reason[sizeof(err->reason)];

	snprintf(reason, sizeof(reason), "%s", err->reason);
	if (snprintf(err->reason, sizeof(err->reason), "%s: %s", opt, reason) >= (int)sizeof(err->reason))
		err->reason[sizeof(err->reason) - 2] = '~';	/* cut: say so */
}

static int load_filter(struct vigil_filter **out, const char *text, const char *opt, struct vigil_export_error *err)
{
	int e;

	if (!text)
		return 0;
	*out = vigil_filter__new_json(text, err);
	if (*out)
		return 0;
	e = -errno;
	if (err && e == -EINVAL)
		name_option(err, opt);
	return e;
}

/* events.json -> events.vigil.json; a name without extension gets ".vigil" appended */
static int own_path_beside(char *out, size_t size, const char *path)
{
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
	int n;

	if (!dot || (slash && dot < slash) || dot == (slash ? slash + 1 : path))
		n = snprintf(out, size, "%s.vigil", path);
	else
		n = snprintf(out, size, "%.*s.vigil%s", (int)(dot - path), path, dot);
	return n > 0 && (size_t)n < size ? 0 : -ENAMETOOLONG;
}

static int setup_own(struct vigil_exporter *x, const struct vigil_exporter_opts *o, struct vigil_export_error *err)
{
	int e = 0;

	if ((unsigned int)o->own > VIGIL_EXPORT_OWN_BUS)
		return export_fail(err, 0, 0, 0, "--export-vigil-events: unknown destination %d", (int)o->own);
	x->own = o->own;
	if (x->own != VIGIL_EXPORT_OWN_FILE || !o->file.path)
		return 0;
	if (o->own_path) {
		if (snprintf(x->own_path, sizeof(x->own_path), "%s", o->own_path) >= (int)sizeof(x->own_path))
			e = -ENAMETOOLONG;
	} else {
		e = own_path_beside(x->own_path, sizeof(x->own_path), o->file.path);
	}
	if (!e && !strcmp(x->own_path, o->file.path))
		return export_fail(err, 0, 0, 0, "--export-vigil-events: the file is the export file itself "
				   "(use \"same\" for one file)");
	x->own_opts = o->file;
	x->own_opts.sz = sizeof(x->own_opts);
	x->own_opts.path = x->own_path;
	return e;
}

struct vigil_exporter *vigil_exporter__new(const struct vigil_exporter_opts *in, struct vigil_export_error *err)
{
	struct vigil_exporter *x = calloc(1, sizeof(*x));
	struct vigil_exporter_opts o = {0};
	int e;

	if (err)
		memset(err, 0, sizeof(*err));
	if (!x)
		return NULL;
	if (!in) {
		e = -EINVAL;
		goto err_out;
	}
	memcpy(&o, in, in->sz && in->sz < sizeof(o) ? in->sz : sizeof(o));
	x->zone_ready = msgpack_zone_init(&x->zone, 4096);
	if (!x->zone_ready) {
		e = -ENOMEM;
		goto err_out;
	}
	e = setup_own(x, &o, err);
	if (e)
		goto err_out;
	snprintf(x->node_name, sizeof(x->node_name), "%s", o.node_name ? o.node_name : "");
	x->report_ns = o.rate_report_ns ? o.rate_report_ns : DEFAULT_REPORT_NS;
	x->cache = o.cache;
	e = load_filter(&x->allow, o.allowlist, "--export-allowlist", err);
	if (!e)
		e = load_filter(&x->deny, o.denylist, "--export-denylist", err);
	if (e)
		goto err_out;
	if (o.field_filters) {
		x->fields = vigil_field_filter__new_json(o.field_filters, err);
		if (!x->fields) {
			e = -errno;
			if (err && e == -EINVAL)
				name_option(err, "--field-filters");
			goto err_out;
		}
	}
	if (o.rate_limit) {
		if (export_rate_parse(o.rate_limit, &x->rate)) {
			e = export_fail(err, 0, 0, 0, "--export-rate-limit: expected N or TYPE=N,... (events a minute)");
			goto err_out;
		}
		x->limited = true;
	}
	if (x->cache) {
		if (x->allow)
			vigil_filter__set_ancestors(x->allow, cache_ancestors, x);
		if (x->deny)
			vigil_filter__set_ancestors(x->deny, cache_ancestors, x);
	}
	x->last_report_ns = export_clock_ns(CLOCK_MONOTONIC);
	x->file = vigil_export_file__open(&o.file);
	if (!x->file) {
		e = -errno;
		goto err_out;
	}
	return x;

err_out:
	vigil_exporter__free(x);
	errno = -e;
	return NULL;
}

/* x->line into f. */
static int write_line_to(struct vigil_exporter *x, struct vigil_export_file *f)
{
	int err = vigil_export_file__write(f, x->line.data, x->line.len);

	if (!err)
		atomic_fetch_add(&x->exported, 1);
	return err;
}

/* The line of a tree into x->line. */
static int render_root(struct vigil_exporter *x, const msgpack_object *root)
{
	int err;

	vigil_buf_reset(&x->line);
	err = vigil_json_from_msgpack(root, &x->line);
	if (err)
		atomic_fetch_add(&x->errors, 1);
	return err;
}

static int write_root(struct vigil_exporter *x, const msgpack_object *root)
{
	int err = render_root(x, root);

	return err ? err : write_line_to(x, x->file);
}

/* A line (in x->line) of one of vigil's own kinds, where opts.own says (not the bus:
 * vigil_exporter__write counts those before rendering). */
static int write_own(struct vigil_exporter *x)
{
	int err;

	if (x->own == VIGIL_EXPORT_OWN_SAME)
		return write_line_to(x, x->file);
	if (!x->own_file) {
		x->own_file = vigil_export_file__open(&x->own_opts);
		if (!x->own_file) {
			atomic_fetch_add(&x->errors, 1);
			return -errno;
		}
	}
	err = write_line_to(x, x->own_file);
	if (!err)
		atomic_fetch_add(&x->own_written, 1);
	return err;
}

/* The line of a decoded message into x->line: the field filters, then, with strip,
 * without vigil's own fields. */
static int render_tree(struct vigil_exporter *x, const struct vigil_msg *m, bool strip)
{
	const msgpack_object *root = x->fields ? vigil_field_filter__apply(x->fields, m) : vigil_msg__root(m);
	const msgpack_object *pure = root;

	if (root && strip) {
		msgpack_zone_clear(&x->zone);
		pure = export_strip_own(&x->zone, root, &x->stripped_root);
		if (pure && pure != root)
			atomic_fetch_add(&x->stripped, 1);
	}
	if (!pure) {
		atomic_fetch_add(&x->errors, 1);
		return -ENOMEM;
	}
	return render_root(x, pure);
}

/* The same line from a view of the agent's own bytes, walked once (stream.c); the tree
 * when more field filters apply than the walk follows. */
static int render_line(struct vigil_exporter *x, const struct vigil_msg *m, enum vigil_event_type t, bool strip)
{
	const void *data;
	bool stripped = false;
	size_t len;
	int err;

	if (vigil_msg__own_bytes(m, &data, &len))
		return render_tree(x, m, strip);
	vigil_buf_reset(&x->line);
	err = export_stream_line(x->fields, t, strip, data, len, &x->line, &stripped);
	if (err == -E2BIG)
		return render_tree(x, m, strip);
	if (err)
		atomic_fetch_add(&x->errors, 1);
	else if (stripped)
		atomic_fetch_add(&x->stripped, 1);
	return err;
}

static int pack_write(void *data, const char *buf, size_t len)
{
	return vigil_buf_append(data, buf, len);
}

/* {"rate_limit_info": {"number_of_dropped_process_events": "N"}, "node_name", "time"}:
 * Tetragon's RateLimitInfo, uint64 as a protojson string. */
static int report_drops(struct vigil_exporter *x)
{
	char count[24], time[40];
	msgpack_packer pk;
	struct vigil_msg *m;
	int err;

	if (!x->pending_drops)
		return 0;
	snprintf(count, sizeof(count), "%llu", (unsigned long long)x->pending_drops);
	vigil_format_time(export_clock_ns(CLOCK_REALTIME), time);
	vigil_buf_reset(&x->pack);
	msgpack_packer_init(&pk, &x->pack, pack_write);
	msgpack_pack_map(&pk, 3);
	msgpack_pack_str_with_body(&pk, "rate_limit_info", 15);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str_with_body(&pk, "number_of_dropped_process_events", 32);
	msgpack_pack_str_with_body(&pk, count, strlen(count));
	msgpack_pack_str_with_body(&pk, "node_name", 9);
	msgpack_pack_str_with_body(&pk, x->node_name, strlen(x->node_name));
	msgpack_pack_str_with_body(&pk, "time", 4);
	msgpack_pack_str_with_body(&pk, time, strlen(time));
	m = vigil_msg__decode(x->pack.data, x->pack.len);
	if (!m) {
		atomic_fetch_add(&x->errors, 1);
		return -errno;
	}
	err = write_root(x, vigil_msg__root(m));
	vigil_msg__free(m);
	if (!err)
		x->pending_drops = 0;
	x->last_report_ns = export_clock_ns(CLOCK_MONOTONIC);
	return err;
}

int vigil_exporter__write(struct vigil_exporter *x, const struct vigil_msg *m, const struct vigil_event *ev)
{
	enum vigil_event_type t = vigil_msg__type(m);
	bool pass, own;
	int slot, err;

	atomic_fetch_add(&x->events, 1);
	x->cur = ev;
	pass = vigil_filter__pass(x->allow, x->deny, m);
	x->cur = NULL;
	if ((x->allow || x->deny) && (vigil_filter__cel_errors(x->allow, NULL) || vigil_filter__cel_errors(x->deny, NULL)))
		atomic_store(&x->cel_errors, vigil_filter__cel_errors(x->allow, NULL) + vigil_filter__cel_errors(x->deny, NULL));
	if (!pass) {
		atomic_fetch_add(&x->filtered, 1);
		return 0;
	}
	if (x->limited && !export_rate_allow(&x->rate, t, export_clock_ns(CLOCK_MONOTONIC), &slot)) {
		atomic_fetch_add(&x->rate_limited, 1);
		if (slot >= 0) {
			atomic_store(&x->slot_type[slot], (int)t);
			if ((size_t)slot >= atomic_load(&x->nslots))
				atomic_store(&x->nslots, (size_t)slot + 1);
			atomic_fetch_add(&x->slot_dropped[slot], 1);
		}
		x->pending_drops++;
		return 0;
	}
	/* Tetragon's kinds lose vigil's own fields unless one file keeps everything */
	own = export_is_own_kind(t);
	if (own && x->own == VIGIL_EXPORT_OWN_BUS) {
		atomic_fetch_add(&x->own_bus_only, 1);
		return 0;
	}
	err = render_line(x, m, t, !own && x->own != VIGIL_EXPORT_OWN_SAME);
	if (err)
		return err;
	return own ? write_own(x) : write_line_to(x, x->file);
}

int vigil_exporter__flush(struct vigil_exporter *x)
{
	if (x->pending_drops && export_clock_ns(CLOCK_MONOTONIC) - x->last_report_ns >= x->report_ns)
		report_drops(x);
	if (x->own_file)
		vigil_export_file__flush(x->own_file);
	return vigil_export_file__flush(x->file);
}

void vigil_exporter__set_rotation(struct vigil_exporter *x, uint64_t max_bytes, uint64_t interval_ns,
				  unsigned int max_backups)
{
	vigil_export_file__set_rotation(x->file, max_bytes, interval_ns, max_backups);
}

void vigil_exporter__rotation(const struct vigil_exporter *x, struct vigil_export_file_opts *out)
{
	vigil_export_file__rotation(x->file, out);
}

void vigil_exporter__stats(const struct vigil_exporter *x, struct vigil_exporter_stats *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!x)
		return;
	vigil_export_file__stats(x->file, &out->file);
	out->events = atomic_load(&x->events);
	out->exported = atomic_load(&x->exported);
	out->filtered = atomic_load(&x->filtered);
	out->cel_errors = atomic_load(&x->cel_errors);
	out->rate_limited = atomic_load(&x->rate_limited);
	out->errors = atomic_load(&x->errors);
	out->own = atomic_load(&x->own_written);
	out->own_bus_only = atomic_load(&x->own_bus_only);
	out->stripped = atomic_load(&x->stripped);
	out->nrate_types = atomic_load(&x->nslots);
	for (i = 0; i < out->nrate_types; i++) {
		out->rate_limited_by_type[i].type = (enum vigil_event_type)atomic_load(&x->slot_type[i]);
		out->rate_limited_by_type[i].dropped = atomic_load(&x->slot_dropped[i]);
	}
}

void vigil_exporter__free(struct vigil_exporter *x)
{
	if (!x)
		return;
	if (x->file) {
		report_drops(x);	/* nothing dropped goes unreported */
		vigil_export_file__close(x->file);
	}
	vigil_export_file__close(x->own_file);
	if (x->zone_ready)
		msgpack_zone_destroy(&x->zone);
	vigil_filter__free(x->allow);
	vigil_filter__free(x->deny);
	vigil_field_filter__free(x->fields);
	vigil_buf_free(&x->line);
	vigil_buf_free(&x->pack);
	free(x);
}

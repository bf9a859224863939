/* test_export.c - unit tests for core/export's file and pipeline: rotation boundaries
 * (never inside a record), backup names, retention, gzip, interval rotation, recovery of an
 * earlier run's leftovers, and the exporter (filters, field filters, the rate limit and its
 * rate_limit_info report, pid_set through the process cache). The clock is wrapped. */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "encode/encode.h"
#include "export/export.h"
#include "export/export_ratelimit.h"
#include "pcache/pcache.h"

/* ================================================================ the clock */

#define REAL_T0 1764403338000000000ULL	/* 2025-11-29T08:02:18.000Z */
#define SEC 1000000000ULL

static uint64_t fake_mono = SEC, fake_real = REAL_T0;

uint64_t __wrap_export_clock_ns(clockid_t clock);
uint64_t __wrap_export_clock_ns(clockid_t clock)
{
	return clock == CLOCK_REALTIME ? fake_real : fake_mono;
}

/* ================================================================ fixture */

struct state {
	char dir[64];
	char path[128];
};

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int setup(void **ctx)
{
	struct state *s = calloc(1, sizeof(*s));

	snprintf(s->dir, sizeof(s->dir), "/tmp/vigil-test-export-XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	snprintf(s->path, sizeof(s->path), "%s/events.json", s->dir);
	fake_mono = SEC;
	fake_real = REAL_T0;
	*ctx = s;
	return 0;
}

static int teardown(void **ctx)
{
	struct state *s = *ctx;

	nftw(s->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(s);
	return 0;
}

static struct vigil_export_file *open_file(struct state *s, uint64_t max, unsigned int backups, bool gz)
{
	struct vigil_export_file_opts o = {
		.sz = sizeof(o), .path = s->path, .max_bytes = max, .max_backups = backups, .compress = gz,
	};
	struct vigil_export_file *f = vigil_export_file__open(&o);

	assert_non_null(f);
	return f;
}

static void put(struct vigil_export_file *f, const char *line)
{
	assert_int_equal(vigil_export_file__write(f, line, strlen(line)), 0);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The directory's entries, sorted; *n gets the count. Free with free_names. */
static char **names(struct state *s, size_t *n)
{
	char **v = calloc(256, sizeof(*v));
	struct dirent *de;
	DIR *d = opendir(s->dir);

	*n = 0;
	assert_non_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			v[(*n)++] = strdup(de->d_name);
	closedir(d);
	qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

static void free_names(char **v, size_t n)
{
	while (n)
		free(v[--n]);
	free(v);
}

/* A file's contents, gunzipped when it ends in .gz. */
static char *slurp(struct state *s, const char *name)
{
	char path[256], *buf = calloc(1, 1 << 20);
	gzFile gz;
	int n;

	snprintf(path, sizeof(path), "%s/%s", s->dir, name);
	gz = gzopen(path, "rb");	/* reads plain files as they are, too */
	assert_non_null(gz);
	n = gzread(gz, buf, (1 << 20) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	gzclose(gz);
	return buf;
}

/* Every file in name order (backups sort by time, then "events.json" last), concatenated. */
static char *everything(struct state *s)
{
	size_t n, i, len = 0;
	char **v = names(s, &n), *all = calloc(1, 4 << 20), *part;

	for (i = 0; i < n; i++) {
		if (!strcmp(v[i], "events.json"))
			continue;
		part = slurp(s, v[i]);
		memcpy(all + len, part, strlen(part));
		len += strlen(part);
		free(part);
	}
	part = slurp(s, "events.json");
	memcpy(all + len, part, strlen(part) + 1);
	free(part);
	free_names(v, n);
	return all;
}

/* ================================================================ rotation */

static void test_lines_below_the_limit_stay_in_one_file(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_export_file *f = open_file(s, 100, 5, false);
	char **v, *text;
	size_t n;

	put(f, "aaaaaaaaaaaaaaaaaaaa");
	put(f, "bbbbbbbbbbbbbbbbbbbb");
	put(f, "cccccccccccccccccccc");
	vigil_export_file__close(f);
	v = names(s, &n);
	assert_int_equal(n, 1);
	text = slurp(s, "events.json");
	assert_string_equal(text, "aaaaaaaaaaaaaaaaaaaa\nbbbbbbbbbbbbbbbbbbbb\ncccccccccccccccccccc\n");
	free(text);
	free_names(v, n);
}

static void test_a_line_that_exactly_reaches_the_limit_stays_and_the_next_rotates(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_export_file *f = open_file(s, 64, 5, false);
	struct vigil_export_file_stats st;
	char **v, *a, *b;
	size_t n;

	put(f, "aaaaaaaaaaaaaaaaaaaa");	/* 21 bytes with the newline */
	put(f, "bbbbbbbbbbbbbbbbbbbb");	/* 42 */
	put(f, "cccccccccccccccccccc");	/* 63 */
	put(f, "");			/* 64: exactly the limit, stays */
	put(f, "d");			/* 66 would pass it: a new file first */
	vigil_export_file__stats(f, &st);
	assert_int_equal(st.rotations, 1);
	vigil_export_file__close(f);
	v = names(s, &n);
	assert_int_equal(n, 2);
	assert_string_equal(v[0], "events-2025-11-29T08-02-18.000.json");
	assert_string_equal(v[1], "events.json");
	a = slurp(s, v[0]);
	b = slurp(s, v[1]);
	assert_string_equal(a, "aaaaaaaaaaaaaaaaaaaa\nbbbbbbbbbbbbbbbbbbbb\ncccccccccccccccccccc\n\n");
	assert_string_equal(b, "d\n");
	free(a);
	free(b);
	free_names(v, n);
}

static void test_a_record_bigger_than_the_limit_gets_a_file_of_its_own(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_export_file *f = open_file(s, 10, 0, false);
	char **v, *a, *b, *c;
	size_t n;

	put(f, "small");
	put(f, "a-record-much-longer-than-ten-bytes");
	put(f, "tail");
	vigil_export_file__close(f);
	v = names(s, &n);
	assert_int_equal(n, 3);
	a = slurp(s, v[0]);
	b = slurp(s, v[1]);
	c = slurp(s, v[2]);
	assert_string_equal(a, "small\n");
	assert_string_equal(b, "a-record-much-longer-than-ten-bytes\n");
	assert_string_equal(c, "tail\n");
	free(a);
	free(b);
	free(c);
	free_names(v, n);
}

static void test_no_record_is_lost_or_split_across_many_rotations(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_export_file *f = open_file(s, 1000, 0, false);
	struct vigil_buf want = {0};
	char line[200], **v, *text, *all;
	size_t n, i, len;
	int k, n0;

	for (k = 0; k < 2000; k++) {
		len = (size_t)(k * 7919 % 150) + 8;
		n0 = snprintf(line, sizeof(line), "%d-", k);	/* each record unique */
		memset(line + n0, 'a' + k % 26, len - (size_t)n0);
		line[len] = '\0';
		put(f, line);
		vigil_buf_append(&want, line, strlen(line));
		vigil_buf_append(&want, "\n", 1);
		fake_real += 1000;	/* a microsecond: several rotations share a millisecond */
	}
	vigil_export_file__close(f);
	v = names(s, &n);
	assert_true(n > 100);
	for (i = 0; i < n; i++) {
		text = slurp(s, v[i]);
		assert_true(strlen(text) <= 1000);
		assert_int_equal(text[strlen(text) - 1], '\n');
		free(text);
	}
	all = everything(s);
	assert_string_equal(all, want.data);
	free(all);
	free_names(v, n);
	vigil_buf_free(&want);
}

static void test_rotations_in_one_millisecond_get_distinct_ordered_names(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_export_file *f = open_file(s, 0, 0, false);
	char **v;
	size_t n;

	put(f, "1");
	assert_int_equal(vigil_export_file__rotate(f), 0);
	put(f, "2");
	assert_int_equal(vigil_export_file__rotate(f), 0);
	put(f, "3");
	assert_int_equal(vigil_export_file__rotate(f), 0);
	assert_int_equal(vigil_export_file__rotate(f), 0);	/* empty: nothing to rotate */
	vigil_export_file__close(f);
	v = names(s, &n);
	assert_int_equal(n, 4);
	assert_string_equal(v[0], "events-2025-11-29T08-02-18.000.json");
	assert_string_equal(v[1], "events-2025-11-29T08-02-18.001.json");
	assert_string_equal(v[2], "events-2025-11-29T08-02-18.002.json");
	assert_string_equal(v[3], "events.json");
	free_names(v, n);
}

static void test_max_backups_keeps_only_the_newest(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_export_file *f = open_file(s, 0, 2, false);
	char **v, *a, *b;
	char line[8];
	size_t n;
	int k;

	for (k = 1; k <= 5; k++) {
		snprintf(line, sizeof(line), "r%d", k);
		put(f, line);
		fake_real += SEC;
		assert_int_equal(vigil_export_file__rotate(f), 0);
	}
	vigil_export_file__close(f);
	v = names(s, &n);
	assert_int_equal(n, 3);
	assert_string_equal(v[0], "events-2025-11-29T08-02-22.000.json");
	assert_string_equal(v[1], "events-2025-11-29T08-02-23.000.json");
	a = slurp(s, v[0]);
	b = slurp(s, v[1]);
	assert_string_equal(a, "r4\n");
	assert_string_equal(b, "r5\n");
	free(a);
	free(b);
	free_names(v, n);
}

static void test_compressed_backups_decompress_to_exactly_what_was_written(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_export_file *f = open_file(s, 200, 0, true);
	struct vigil_export_file_stats st;
	struct vigil_buf want = {0};
	char line[64], **v, *all;
	size_t n, i;
	int k;

	for (k = 0; k < 300; k++) {
		snprintf(line, sizeof(line), "{\"n\":%d,\"pad\":\"xxxxxxxxxxxxxxxxxxxx\"}", k);
		put(f, line);
		vigil_buf_printf(&want, "%s\n", line);
		fake_real += SEC / 100;
	}
	vigil_export_file__flush(f);
	/* a copy of the stats taken before close still shows every rotation */
	vigil_export_file__stats(f, &st);
	assert_true(st.rotations > 20);
	vigil_export_file__close(f);
	v = names(s, &n);
	assert_int_equal(n, st.rotations + 1);
	for (i = 0; i + 1 < n; i++)
		assert_non_null(strstr(v[i], ".json.gz"));
	all = everything(s);
	assert_string_equal(all, want.data);
	free(all);
	free_names(v, n);
	vigil_buf_free(&want);
}

static void test_interval_rotation_only_rotates_a_file_with_records(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_export_file_opts o = {.sz = sizeof(o), .path = s->path, .interval_ns = 10 * SEC};
	struct vigil_export_file *f = vigil_export_file__open(&o);
	struct vigil_export_file_stats st;

	assert_non_null(f);
	fake_mono += 11 * SEC;			/* interval over, file empty: no rotation */
	vigil_export_file__flush(f);
	put(f, "one");
	fake_mono += 5 * SEC;			/* 5 s into the new interval */
	vigil_export_file__flush(f);
	vigil_export_file__stats(f, &st);
	assert_int_equal(st.rotations, 0);
	fake_mono += 5 * SEC;			/* 10 s: rotate */
	vigil_export_file__flush(f);
	vigil_export_file__stats(f, &st);
	assert_int_equal(st.rotations, 1);
	assert_int_equal(st.lines, 1);
	vigil_export_file__close(f);
}

static void write_file(struct state *s, const char *name, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", s->dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void test_open_compresses_what_an_earlier_run_left_and_drops_partial_gz(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_export_file *f;
	char **v, *text;
	size_t n;

	write_file(s, "events-2025-11-28T00-00-00.000.json", "old\n");
	write_file(s, "events-2025-11-28T00-00-01.000.json.gz.tmp", "half a gzip");
	write_file(s, "unrelated.json", "keep\n");
	f = open_file(s, 0, 0, true);
	vigil_export_file__close(f);
	v = names(s, &n);
	assert_int_equal(n, 3);
	assert_string_equal(v[0], "events-2025-11-28T00-00-00.000.json.gz");
	assert_string_equal(v[1], "events.json");
	assert_string_equal(v[2], "unrelated.json");
	text = slurp(s, v[0]);
	assert_string_equal(text, "old\n");
	free(text);
	free_names(v, n);
}

static void test_appends_to_an_existing_file_counting_its_size(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_export_file *f;
	struct stat st;
	char **v;
	size_t n;

	write_file(s, "events.json", "0123456789012345678901234567890123456789012345678\n");	/* 50 */
	f = open_file(s, 60, 0, false);
	put(f, "0123456789");		/* 61 would pass 60: rotate first */
	vigil_export_file__close(f);
	v = names(s, &n);
	assert_int_equal(n, 2);
	assert_int_equal(stat(s->path, &st), 0);
	assert_int_equal(st.st_size, 11);
	assert_int_equal(st.st_mode & 0777, 0600);	/* new files: 0600 unless told */
	free_names(v, n);
}

/* ================================================================ the exporter */

static const struct vigil_hook_info hook = {
	.id = 1, .type = VIGIL_EVENT_KPROBE, .policy_name = "p", .function_name = "security_file_open",
};

static struct vigil_process *proc(uint32_t pid, uint64_t ktime, uint32_t ppid, uint64_t pktime, const char *binary)
{
	struct vigil_process *p = vigil_process__new();

	assert_non_null(p);
	p->pid = p->tid = pid;
	p->ktime = ktime;
	p->ppid = ppid;
	p->pktime = pktime;
	assert_int_equal(vigil_process__set_str(&p->binary, binary, strlen(binary)), 0);
	return p;
}

/* Encode ev and hand it to the exporter. */
static void offer(struct vigil_exporter *x, enum vigil_event_type type, const struct vigil_process *p)
{
	struct vigil_event ev = {.type = type, .time = REAL_T0, .node_name = "n1", .process = p};
	struct vigil_buf wire = {0};
	struct vigil_msg *m;

	if (type != VIGIL_EVENT_EXEC && type != VIGIL_EVENT_EXIT)
		ev.policy.hook = &hook;
	assert_int_equal(vigil_encode_msgpack(&ev, &wire), 0);
	m = vigil_msg__decode(wire.data, wire.len);
	assert_non_null(m);
	assert_int_equal(vigil_exporter__write(x, m, &ev), 0);
	vigil_msg__free(m);
	vigil_buf_free(&wire);
}

/* Encode ev as it is and hand it to the exporter. */
static void offer_event(struct vigil_exporter *x, const struct vigil_event *ev)
{
	struct vigil_buf wire = {0};
	struct vigil_msg *m;

	assert_int_equal(vigil_encode_msgpack(ev, &wire), 0);
	m = vigil_msg__decode(wire.data, wire.len);
	assert_non_null(m);
	assert_int_equal(vigil_exporter__write(x, m, ev), 0);
	vigil_msg__free(m);
	vigil_buf_free(&wire);
}

/* One event of each of vigil's own kinds, and a policy event in monitor mode. */
static void offer_own_kinds(struct vigil_exporter *x, const struct vigil_process *p)
{
	struct vigil_event alert = {.type = VIGIL_EVENT_ALERT, .time = REAL_T0, .node_name = "n1", .process = p,
				    .alert = {.rule = "r1", .priority = "Warning", .output = "seen"}};
	struct vigil_event action = {.type = VIGIL_EVENT_RULE_ACTION, .time = REAL_T0, .node_name = "n1",
				     .rule_action = {.rule = "r1", .action = "kill", .pid = 7, .signal = 9}};
	struct vigil_event status = {.type = VIGIL_EVENT_RULE_STATUS, .time = REAL_T0, .node_name = "n1",
				     .rule_status = {.rule = "r1", .state = "disabled", .reason = "budget"}};
	struct vigil_event monitored = {.type = VIGIL_EVENT_KPROBE, .time = REAL_T0, .node_name = "n1", .process = p};

	monitored.policy.hook = &hook;
	monitored.policy.action = VIGIL_EVENT_ACTION_SIGKILL;
	monitored.policy.monitored = true;
	offer_event(x, &alert);
	offer_event(x, &action);
	offer_event(x, &status);
	offer_event(x, &monitored);
}

static struct vigil_exporter *exporter_own(struct state *s, enum vigil_export_own own, const char *own_path)
{
	struct vigil_exporter_opts o = {
		.sz = sizeof(o), .file = {.sz = sizeof(o.file), .path = s->path}, .node_name = "n1",
		.own = own, .own_path = own_path,
	};
	struct vigil_export_error err;
	struct vigil_exporter *x = vigil_exporter__new(&o, &err);

	if (!x)
		fail_msg("exporter: %s", err.reason);
	return x;
}

static struct vigil_exporter *exporter(struct state *s, const char *allow, const char *deny, const char *fields,
				       const char *rate, struct vigil_pcache *cache)
{
	struct vigil_exporter_opts o = {
		.sz = sizeof(o), .file = {.sz = sizeof(o.file), .path = s->path},
		.allowlist = allow, .denylist = deny, .field_filters = fields, .rate_limit = rate,
		.node_name = "n1", .cache = cache, .rate_report_ns = 60 * SEC,
	};
	struct vigil_export_error err;
	struct vigil_exporter *x = vigil_exporter__new(&o, &err);

	if (!x)
		fail_msg("exporter: %s", err.reason);
	return x;
}

static size_t count_of(const char *text, const char *needle)
{
	size_t n = 0;

	for (; (text = strstr(text, needle)); text += strlen(needle))
		n++;
	return n;
}

static void test_rate_limit_passes_a_burst_then_reports_the_exact_drops(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_exporter *x = exporter(s, NULL, NULL, NULL, "exec=3", NULL);
	struct vigil_process *p = proc(10, 1, 1, 1, "/usr/bin/true");
	struct vigil_exporter_stats st;
	char *text;
	int k;

	for (k = 0; k < 10; k++)
		offer(x, VIGIL_EVENT_EXEC, p);
	for (k = 0; k < 4; k++)
		offer(x, VIGIL_EVENT_EXIT, p);	/* other types: unlimited */
	vigil_exporter__stats(x, &st);
	assert_int_equal(st.events, 14);
	assert_int_equal(st.rate_limited, 7);
	assert_int_equal(st.nrate_types, 1);
	assert_int_equal(st.rate_limited_by_type[0].type, VIGIL_EVENT_EXEC);
	assert_int_equal(st.rate_limited_by_type[0].dropped, 7);
	vigil_exporter__free(x);	/* reports what is pending */
	text = slurp(s, "events.json");
	assert_int_equal(count_of(text, "{\"process_exec\""), 3);
	assert_int_equal(count_of(text, "{\"process_exit\""), 4);
	assert_non_null(strstr(text, "\n{\"rate_limit_info\":{\"number_of_dropped_process_events\":\"7\"},"
				     "\"node_name\":\"n1\",\"time\":\"2025-11-29T08:02:18Z\"}\n"));
	free(text);
	vigil_process__free(p);
}

static void test_rate_limit_refills_at_its_rate_and_reports_each_interval(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_exporter *x = exporter(s, NULL, NULL, NULL, "60", NULL);	/* one a second */
	struct vigil_process *p = proc(10, 1, 1, 1, "/usr/bin/true");
	struct vigil_exporter_stats st;
	char *text;
	int k;

	for (k = 0; k < 62; k++)
		offer(x, VIGIL_EVENT_EXEC, p);		/* 60 pass, 2 dropped */
	fake_mono += 2 * SEC;
	offer(x, VIGIL_EVENT_EXEC, p);			/* two tokens back: passes */
	offer(x, VIGIL_EVENT_EXEC, p);			/* passes */
	offer(x, VIGIL_EVENT_EXEC, p);			/* dropped */
	fake_mono += 60 * SEC;				/* the report interval */
	assert_int_equal(vigil_exporter__flush(x), 0);
	vigil_exporter__stats(x, &st);
	assert_int_equal(st.rate_limited, 3);
	text = slurp(s, "events.json");
	assert_int_equal(count_of(text, "{\"process_exec\""), 62);
	assert_int_equal(count_of(text, "\"number_of_dropped_process_events\":\"3\""), 1);
	free(text);
	vigil_exporter__free(x);	/* nothing pending: no second report */
	text = slurp(s, "events.json");
	assert_int_equal(count_of(text, "rate_limit_info"), 1);
	free(text);
	vigil_process__free(p);
}

static void test_exporter_applies_allow_deny_then_field_filters(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_exporter *x = exporter(s, "{\"event_set\":[\"PROCESS_EXEC\",\"PROCESS_KPROBE\"]}",
					    "{\"binary_regex\":[\"curl\"]}",
					    "{\"fields\":\"process.binary\",\"event_set\":[\"PROCESS_EXEC\"]}", NULL, NULL);
	struct vigil_process *bash = proc(10, 1, 1, 1, "/usr/bin/bash"), *curl = proc(11, 2, 10, 1, "/usr/bin/curl");
	struct vigil_exporter_stats st;
	char *text;

	offer(x, VIGIL_EVENT_EXEC, bash);	/* exported, fields cut */
	offer(x, VIGIL_EVENT_EXEC, curl);	/* denied */
	offer(x, VIGIL_EVENT_EXIT, bash);	/* not allowed */
	offer(x, VIGIL_EVENT_KPROBE, bash);	/* exported whole */
	vigil_exporter__stats(x, &st);
	assert_int_equal(st.filtered, 2);
	vigil_exporter__free(x);
	text = slurp(s, "events.json");
	assert_true(!strncmp(text, "{\"process_exec\":{\"process\":{\"binary\":\"/usr/bin/bash\"}},\"node_name\":\"n1\"",
			     strlen("{\"process_exec\":{\"process\":{\"binary\":\"/usr/bin/bash\"}},\"node_name\":\"n1\"")));
	assert_int_equal(count_of(text, "\n"), 2);
	assert_non_null(strstr(text, "\"policy_name\":\"p\""));
	assert_null(strstr(text, "curl"));
	free(text);
	vigil_process__free(bash);
	vigil_process__free(curl);
}

static void test_exporter_pid_set_walks_ancestors_in_the_process_cache(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_pcache *c = vigil_pcache__new(NULL);
	struct vigil_process *top, *mid, *leaf, *stranger;
	struct vigil_exporter *x;
	char *text;

	assert_non_null(c);
	top = vigil_pcache__exec(c, proc(100, 10, 1, 1, "/usr/bin/bash"), 0);
	mid = vigil_pcache__exec(c, proc(200, 20, 100, 10, "/usr/bin/make"), 0);
	leaf = vigil_pcache__exec(c, proc(300, 30, 200, 20, "/usr/bin/cc"), 0);
	stranger = vigil_pcache__exec(c, proc(400, 40, 1, 1, "/usr/bin/cron"), 0);
	assert_non_null(top);
	assert_non_null(mid);
	assert_non_null(leaf);
	assert_non_null(stranger);
	x = exporter(s, "{\"pid_set\":[100]}", NULL, NULL, NULL, c);
	offer(x, VIGIL_EVENT_EXEC, leaf);
	offer(x, VIGIL_EVENT_EXEC, stranger);
	offer(x, VIGIL_EVENT_EXEC, top);
	vigil_exporter__free(x);
	text = slurp(s, "events.json");
	assert_int_equal(count_of(text, "\n"), 2);
	assert_non_null(strstr(text, "/usr/bin/cc"));
	assert_non_null(strstr(text, "/usr/bin/bash"));
	assert_null(strstr(text, "/usr/bin/cron"));
	free(text);
	vigil_pcache__free(c);
}

static void test_exporter_refuses_a_bad_filter_naming_the_option(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_exporter_opts o = {
		.sz = sizeof(o), .file = {.sz = sizeof(o.file), .path = s->path}, .denylist = "{\"cel_expression\":[\"x\"]}",
	};
	struct vigil_export_error err;

	assert_null(vigil_exporter__new(&o, &err));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err.reason, "--export-denylist: cel_expression: expression 1: column 1: undeclared reference to 'x'");
	o.denylist = NULL;
	o.rate_limit = "exec=fast";
	assert_null(vigil_exporter__new(&o, &err));
	assert_string_equal(err.reason, "--export-rate-limit: expected N or TYPE=N,... (events a minute)");
}

static void test_own_kinds_go_to_their_own_file_by_default(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_exporter *x = exporter_own(s, 0, NULL);
	struct vigil_process *p = proc(10, 1, 1, 1, "/usr/bin/true");
	struct vigil_exporter_stats st;
	char *text;

	offer(x, VIGIL_EVENT_EXEC, p);
	offer_own_kinds(x, p);
	vigil_exporter__stats(x, &st);
	assert_int_equal(st.own, 3);
	assert_int_equal(st.stripped, 1);
	vigil_exporter__free(x);
	text = slurp(s, "events.json");
	assert_int_equal(count_of(text, "\n"), 2);
	assert_int_equal(count_of(text, "{\"process_exec\""), 1);
	assert_int_equal(count_of(text, "{\"process_kprobe\""), 1);
	assert_null(strstr(text, "monitored"));		/* vigil's field: not in Tetragon's ProcessKprobe */
	assert_non_null(strstr(text, "\"action\":\"KPROBE_ACTION_SIGKILL\""));
	free(text);
	text = slurp(s, "events.vigil.json");
	assert_int_equal(count_of(text, "\n"), 3);
	assert_int_equal(count_of(text, "{\"process_alert\""), 1);
	assert_int_equal(count_of(text, "{\"rule_action\""), 1);
	assert_int_equal(count_of(text, "{\"rule_status\""), 1);
	free(text);
	vigil_process__free(p);
}

static void test_own_kinds_in_the_same_file_keep_every_field(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_exporter *x = exporter_own(s, VIGIL_EXPORT_OWN_SAME, NULL);
	struct vigil_process *p = proc(10, 1, 1, 1, "/usr/bin/true");
	size_t n;
	char *text, **v;

	offer_own_kinds(x, p);
	vigil_exporter__free(x);
	text = slurp(s, "events.json");
	assert_int_equal(count_of(text, "\n"), 4);
	assert_non_null(strstr(text, "\"monitored\":true"));
	assert_int_equal(count_of(text, "{\"process_alert\""), 1);
	free(text);
	v = names(s, &n);
	assert_int_equal(n, 1);		/* no second file */
	free_names(v, n);
	vigil_process__free(p);
}

static void test_own_kinds_bus_only_are_counted_not_written(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_exporter *x = exporter_own(s, VIGIL_EXPORT_OWN_BUS, NULL);
	struct vigil_process *p = proc(10, 1, 1, 1, "/usr/bin/true");
	struct vigil_exporter_stats st;
	size_t n;
	char *text, **v;

	offer_own_kinds(x, p);
	vigil_exporter__stats(x, &st);
	assert_int_equal(st.own_bus_only, 3);
	assert_int_equal(st.own, 0);
	vigil_exporter__free(x);
	text = slurp(s, "events.json");
	assert_int_equal(count_of(text, "\n"), 1);
	assert_null(strstr(text, "monitored"));
	free(text);
	v = names(s, &n);
	assert_int_equal(n, 1);
	free_names(v, n);
	vigil_process__free(p);
}

static void test_own_kinds_file_path_is_taken_and_never_the_export_file(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_exporter_opts o = {
		.sz = sizeof(o), .file = {.sz = sizeof(o.file), .path = s->path}, .own = VIGIL_EXPORT_OWN_FILE,
		.own_path = s->path,
	};
	struct vigil_process *p = proc(10, 1, 1, 1, "/usr/bin/true");
	struct vigil_export_error err;
	struct vigil_exporter *x;
	char path[160], *text;

	assert_null(vigil_exporter__new(&o, &err));
	assert_non_null(strstr(err.reason, "the export file itself"));
	snprintf(path, sizeof(path), "%s/alerts.log", s->dir);
	x = exporter_own(s, VIGIL_EXPORT_OWN_FILE, path);
	offer_own_kinds(x, p);
	vigil_exporter__free(x);
	text = slurp(s, "alerts.log");
	assert_int_equal(count_of(text, "\n"), 3);
	free(text);
	vigil_process__free(p);
}

static void test_rate_limit_spec_forms(void **ctx)
{
	struct export_rate r;

	assert_int_equal(export_rate_parse("100", &r), 0);
	assert_int_equal(r.def, 100);
	assert_int_equal(r.n, 0);
	assert_int_equal(export_rate_parse("exec=5,kprobe=-1,1000", &r), 0);
	assert_int_equal(r.def, 1000);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.slot[0].type, VIGIL_EVENT_EXEC);
	assert_int_equal(r.slot[0].limit, 5);
	assert_int_equal(r.slot[1].type, VIGIL_EVENT_KPROBE);
	assert_int_equal(r.slot[1].limit, -1);
	assert_int_equal(export_rate_parse("", &r), -EINVAL);
	assert_int_equal(export_rate_parse("-2", &r), -EINVAL);
	assert_int_equal(export_rate_parse("5,", &r), -EINVAL);
	assert_int_equal(export_rate_parse("exec=", &r), -EINVAL);
	assert_int_equal(export_rate_parse("nope=5", &r), -EINVAL);
	assert_int_equal(export_rate_parse("10/s", &r), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lines_below_the_limit_stay_in_one_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_line_that_exactly_reaches_the_limit_stays_and_the_next_rotates,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_record_bigger_than_the_limit_gets_a_file_of_its_own, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_record_is_lost_or_split_across_many_rotations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotations_in_one_millisecond_get_distinct_ordered_names, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_max_backups_keeps_only_the_newest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compressed_backups_decompress_to_exactly_what_was_written, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_interval_rotation_only_rotates_a_file_with_records, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_compresses_what_an_earlier_run_left_and_drops_partial_gz,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_appends_to_an_existing_file_counting_its_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit_passes_a_burst_then_reports_the_exact_drops, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit_refills_at_its_rate_and_reports_each_interval, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_exporter_applies_allow_deny_then_field_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exporter_pid_set_walks_ancestors_in_the_process_cache, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_exporter_refuses_a_bad_filter_naming_the_option, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit_spec_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_kinds_go_to_their_own_file_by_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_kinds_in_the_same_file_keep_every_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_kinds_bus_only_are_counted_not_written, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_kinds_file_path_is_taken_and_never_the_export_file, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

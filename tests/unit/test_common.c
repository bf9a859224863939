/* test_common.c - unit tests for core/common: the growable buffer, the strict number and
 * time parsers, base64, the atomic file replace and the print callback. RFC 4648's base64
 * vectors and the format/parse time round trip of ordinary times live in test_encode.c;
 * these are the edges and the bad inputs. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/common.h"

/* ---- vigil_buf ---- */

static void test_buf_grows_and_stays_nul_terminated(void **ctx)
{
	struct vigil_buf b = {0};
	char big[1000];
	size_t i;

	(void)ctx;
	/* nothing appended yet: an empty append still gives a terminated string */
	assert_int_equal(vigil_buf_append(&b, NULL, 0), 0);
	assert_non_null(b.data);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");

	memset(big, 'x', sizeof(big));
	for (i = 0; i < 5; i++)
		assert_int_equal(vigil_buf_append(&b, big, sizeof(big)), 0);
	assert_int_equal(b.len, 5 * sizeof(big));
	assert_true(b.cap > b.len);
	assert_int_equal(b.data[b.len], '\0');
	assert_int_equal(strlen(b.data), b.len);

	/* embedded NULs are bytes like any other: len counts them */
	vigil_buf_reset(&b);
	assert_int_equal(vigil_buf_append(&b, "a\0b", 3), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b", 4);
	vigil_buf_free(&b);
}

static void test_buf_printf_appends_past_the_first_block(void **ctx)
{
	struct vigil_buf b = {0};
	size_t cap;

	(void)ctx;
	assert_int_equal(vigil_buf_puts(&b, "n="), 0);
	assert_int_equal(vigil_buf_printf(&b, "%d/%s", -42, "x"), 0);
	assert_string_equal(b.data, "n=-42/x");
	/* longer than the first 256-byte block: the second vsnprintf must see the whole room */
	assert_int_equal(vigil_buf_printf(&b, "%0300d", 7), 0);
	assert_int_equal(b.len, 7 + 300);
	assert_int_equal(b.data[b.len - 1], '7');
	assert_int_equal(b.data[b.len], '\0');
	assert_int_equal(vigil_buf_printf(&b, "%s", ""), 0);
	assert_int_equal(b.len, 307);

	/* reset keeps the memory, free gives it back and leaves a usable empty buffer */
	cap = b.cap;
	vigil_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	assert_int_equal(b.cap, cap);
	vigil_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.cap, 0);
	vigil_buf_reset(&b);	/* accepts a freed buffer */
	assert_int_equal(vigil_buf_puts(&b, "again"), 0);
	assert_string_equal(b.data, "again");
	vigil_buf_free(&b);
	vigil_buf_free(&b);	/* twice is harmless */
}

/* ---- vigil_parse_long ---- */

static void test_parse_long_accepts_decimal_in_range(void **ctx)
{
	long v = 0;

	(void)ctx;
	assert_int_equal(vigil_parse_long("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(vigil_parse_long("-7", -10, 10, &v), 0);
	assert_int_equal(v, -7);
	assert_int_equal(vigil_parse_long("+10", 0, 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(vigil_parse_long("9223372036854775807", 0, LONG_MAX, &v), 0);
	assert_true(v == LONG_MAX);
	assert_int_equal(vigil_parse_long("010", 0, 100, &v), 0);	/* decimal, not octal */
	assert_int_equal(v, 10);
}

static void test_parse_long_refuses_junk_and_range_and_leaves_out_alone(void **ctx)
{
	static const char *junk[] = { "", "-", "+", "12x", "12 ", "1.5", "0x10", "x", "1e3", "--1" };
	long v = 1234;
	size_t i;

	(void)ctx;
	assert_int_equal(vigil_parse_long(NULL, 0, 10, &v), -EINVAL);
	for (i = 0; i < VIGIL_ARRAY_SIZE(junk); i++)
		assert_int_equal(vigil_parse_long(junk[i], LONG_MIN, LONG_MAX, &v), -EINVAL);
	/* past what a long holds, either way */
	assert_int_equal(vigil_parse_long("9223372036854775808", LONG_MIN, LONG_MAX, &v), -ERANGE);
	assert_int_equal(vigil_parse_long("-9223372036854775809", LONG_MIN, LONG_MAX, &v), -ERANGE);
	assert_int_equal(vigil_parse_long("99999999999999999999999", 0, 10, &v), -ERANGE);
	/* outside the caller's bounds: negative for an unsigned setting, one past max */
	assert_int_equal(vigil_parse_long("-1", 0, 10, &v), -ERANGE);
	assert_int_equal(vigil_parse_long("11", 0, 10, &v), -ERANGE);
	assert_int_equal(v, 1234);
}

/* ---- vigil_parse_duration (vigild's durations and eventlog set's rotation interval) ---- */

static void test_parse_duration_go_style_and_seconds(void **ctx)
{
	static const char *bad[] = { "", "5x", "h", "-1s", "1.5h", "1h ", "3651d", "87601h" };
	uint64_t ns = 7;
	size_t i;

	(void)ctx;
	assert_int_equal(vigil_parse_duration("90", &ns), 0);
	assert_true(ns == 90ULL * 1000000000ULL);
	assert_int_equal(vigil_parse_duration("1h0m0s", &ns), 0);	/* Go's Duration.String() */
	assert_true(ns == 3600ULL * 1000000000ULL);
	assert_int_equal(vigil_parse_duration("1h30m500ms", &ns), 0);
	assert_true(ns == 5400ULL * 1000000000ULL + 500000000ULL);
	assert_int_equal(vigil_parse_duration("0", &ns), 0);
	assert_true(ns == 0);
	for (i = 0; i < VIGIL_ARRAY_SIZE(bad); i++)
		assert_int_not_equal(vigil_parse_duration(bad[i], &ns), 0);
}

/* ---- base64 ---- */

static void test_base64_round_trips_every_byte_and_length(void **ctx)
{
	unsigned char in[256], back[256];
	char text[4 * ((sizeof(in) + 2) / 3) + 1];
	size_t n, i, len;

	(void)ctx;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(255 - i);
	for (n = 0; n <= sizeof(in); n += (n < 8 ? 1 : 61)) {
		len = vigil_base64_encode(in, n, text);
		assert_int_equal(len, 4 * ((n + 2) / 3));
		assert_int_equal(strlen(text), len);
		assert_int_equal(vigil_base64_decode(text, len, back, sizeof(back)), (int)n);
		assert_memory_equal(back, in, n);
	}
}

static void test_base64_decode_refuses_characters_outside_the_alphabet(void **ctx)
{
	static const char *bad[] = { "Zm9v YmFy", "Zm9v-_", "Zm9v\nYmFy", "\xc3\xa9", "Zm9v.", "*" };
	char back[16];
	size_t i;

	(void)ctx;
	for (i = 0; i < VIGIL_ARRAY_SIZE(bad); i++)
		assert_int_equal(vigil_base64_decode(bad[i], strlen(bad[i]), back, sizeof(back)), -EINVAL);
	/* a NUL inside the n characters is not "A" */
	assert_int_equal(vigil_base64_decode("Zm\0v", 4, back, sizeof(back)), -EINVAL);
	/* the output bound is exact: 6 bytes fit in 6, not in 5 */
	assert_int_equal(vigil_base64_decode("Zm9vYmFy", 8, back, 6), 6);
	assert_int_equal(vigil_base64_decode("Zm9vYg==", 8, back, 3), -EINVAL);
	assert_int_equal(vigil_base64_decode("Zg==", 4, back, 0), -EINVAL);
}

/* Decoding stops at the first '=' or after n characters (common.h): what follows a pad is
 * not read, a truncated quantum yields the whole bytes it holds, and n is never overrun. */
static void test_base64_decode_stops_at_padding_and_at_n(void **ctx)
{
	char back[16];

	(void)ctx;
	memset(back, '#', sizeof(back));
	assert_int_equal(vigil_base64_decode("Zm9v", 3, back, sizeof(back)), 2);	/* "Zm9" */
	assert_memory_equal(back, "fo#", 3);
	assert_int_equal(vigil_base64_decode("Z", 1, back, sizeof(back)), 0);	/* 6 bits: no byte */
	assert_int_equal(vigil_base64_decode("Zg", 2, back, sizeof(back)), 1);	/* padding left off */
	assert_int_equal(back[0], 'f');
	assert_int_equal(vigil_base64_decode("Zg==!!!!", 8, back, sizeof(back)), 1);
	assert_int_equal(vigil_base64_decode("=Zm9v", 5, back, sizeof(back)), 0);
	assert_int_equal(vigil_base64_decode("", 0, back, sizeof(back)), 0);
	assert_int_equal(vigil_base64_decode("Zm9v", 0, back, sizeof(back)), 0);
}

/* ---- time ---- */

static void test_format_time_picks_0_3_6_or_9_digits(void **ctx)
{
	char out[40];

	(void)ctx;
	vigil_format_time(0, out);
	assert_string_equal(out, "1970-01-01T00:00:00Z");
	vigil_format_time(1000000000ULL * 86400 * 365 + 120000000ULL, out);
	assert_string_equal(out, "1971-01-01T00:00:00.120Z");
	vigil_format_time(1000000000ULL + 1000, out);
	assert_string_equal(out, "1970-01-01T00:00:01.000001Z");
	vigil_format_time(999999999ULL, out);
	assert_string_equal(out, "1970-01-01T00:00:00.999999999Z");
	/* the per-thread calendar memo must not leak one second into the next */
	vigil_format_time(1000000000ULL * 59, out);
	assert_string_equal(out, "1970-01-01T00:00:59Z");
	vigil_format_time(1000000000ULL * 60 + 1, out);
	assert_string_equal(out, "1970-01-01T00:01:00.000000001Z");
	/* the last nanosecond a uint64 holds, and back */
	vigil_format_time(UINT64_MAX, out);
	assert_string_equal(out, "2554-07-21T23:34:33.709551615Z");
}

/* The calendar is arithmetic: gmtime_r + strftime agree on every day from 1970 to 2554 (leap
 * years, 2100 and 2400 included) and on a spread of seconds within each. */
static void test_format_time_calendar_matches_gmtime(void **ctx)
{
	char out[40], want[40];
	uint64_t day, secs;
	struct tm tm;
	time_t t;

	(void)ctx;
	for (day = 0; day < 213503; day++) {
		secs = day * 86400 + (day * 7919) % 86400;
		t = (time_t)secs;
		gmtime_r(&t, &tm);
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
		vigil_format_time(secs * 1000000000ULL, out);
		assert_string_equal(out, want);
	}
}

static void test_parse_time_calendar_edges_and_bad_input(void **ctx)
{
	static const char *bad[] = {
		"",				/* empty */
		"2026-11-29T08:02:18",		/* no zone */
		"2026-11-29T08:02:18z",		/* lower-case zone */
		"2026-11-29T08:02:18ZZ",	/* trailing junk */
		"2026-11-29T08:02:18Z ",
		"2026-11-29T08:02:60Z",		/* leap second */
		"2026-11-29T08:60:00Z",
		"2026-13-01T00:00:00Z",
		"2026-00-01T00:00:00Z",
		"2026-01-00T00:00:00Z",
		"2026-04-31T00:00:00Z",
		"2100-02-29T00:00:00Z",		/* a century that is not a leap year */
		"1970-01-01T00:00:00-00:00",
		"+970-01-01T00:00:00Z",
		"2026-1-29T08:02:18Z",
		"2026-11-29T08:02:18.12a4Z",
		"2026-11-29T08:02:18.-1Z",
	};
	uint64_t ns = 77;
	size_t i;

	(void)ctx;
	for (i = 0; i < VIGIL_ARRAY_SIZE(bad); i++) {
		assert_int_equal(vigil_parse_time(bad[i], strlen(bad[i]), &ns), -EINVAL);
		assert_true(ns == 77);
	}
	/* n bounds the read: the "Z" past n is not there */
	assert_int_equal(vigil_parse_time("2026-11-29T08:02:18Z", 19, &ns), -EINVAL);
	assert_int_equal(vigil_parse_time("2026-11-29T08:02:18.5Z", 21, &ns), -EINVAL);

	assert_int_equal(vigil_parse_time("1970-01-01T00:00:00Z", 20, &ns), 0);
	assert_true(ns == 0);
	assert_int_equal(vigil_parse_time("2000-02-29T00:00:00.000000001Z", 30, &ns), 0);
	assert_true(ns == 951782400000000001ULL);
	assert_int_equal(vigil_parse_time("2024-12-31T23:59:59.9Z", 22, &ns), 0);
	assert_true(ns == 1735689599900000000ULL);
	assert_int_equal(vigil_parse_time("2554-07-21T23:34:33.709551615Z", 30, &ns), 0);
	assert_true(ns == UINT64_MAX);
}

/* ---- vigil_file_replace ---- */

struct tmpdir {
	char dir[64];
	char path[128], tmp[128];
};

static int tmpdir_setup(void **state)
{
	struct tmpdir *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/vigil-common-XXXXXX");
	if (!mkdtemp(t->dir)) {
		free(t);
		return -1;
	}
	snprintf(t->path, sizeof(t->path), "%s/state", t->dir);
	snprintf(t->tmp, sizeof(t->tmp), "%s/.state.tmp", t->dir);
	*state = t;
	return 0;
}

static int tmpdir_teardown(void **state)
{
	struct tmpdir *t = *state;

	unlink(t->path);
	unlink(t->tmp);
	rmdir(t->dir);
	free(t);
	return 0;
}

/* The whole file, NUL-terminated; asserts it exists. */
static size_t slurp(const char *path, char *out, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, out, size - 1);
	assert_true(n >= 0);
	close(fd);
	out[n] = '\0';
	return (size_t)n;
}

static void test_file_replace_writes_every_iovec_then_renames(void **state)
{
	struct tmpdir *t = *state;
	struct iovec iov[3] = {
		{.iov_base = "one ", .iov_len = 4},
		{.iov_base = "", .iov_len = 0},
		{.iov_base = "two\n", .iov_len = 4},
	};
	struct stat st;
	char got[64];
	mode_t old = umask(022);

	assert_int_equal(vigil_file_replace(t->tmp, t->path, 0640, iov, 3), 0);
	umask(old);
	assert_int_equal(slurp(t->path, got, sizeof(got)), 8);
	assert_string_equal(got, "one two\n");
	assert_int_equal(stat(t->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(access(t->tmp, F_OK), -1);	/* renamed away, not copied */

	/* again: the old contents go whole, shorter contents leave no tail */
	iov[0].iov_base = "3";
	iov[0].iov_len = 1;
	assert_int_equal(vigil_file_replace(t->tmp, t->path, 0640, iov, 1), 0);
	assert_int_equal(slurp(t->path, got, sizeof(got)), 1);
	assert_string_equal(got, "3");
	/* nothing to write is an empty file, not an error */
	assert_int_equal(vigil_file_replace(t->tmp, t->path, 0600, NULL, 0), 0);
	assert_int_equal(slurp(t->path, got, sizeof(got)), 0);
}

static void test_file_replace_fails_with_errno_and_leaves_path_alone(void **state)
{
	struct tmpdir *t = *state;
	struct iovec iov = {.iov_base = "new", .iov_len = 3};
	char missing_tmp[160], missing_path[160], got[16];

	assert_int_equal(vigil_file_replace(t->tmp, t->path, 0600, &(struct iovec){.iov_base = "old", .iov_len = 3}, 1),
			 0);
	/* the temporary file's directory is missing: nothing is written */
	snprintf(missing_tmp, sizeof(missing_tmp), "%s/nosuch/x.tmp", t->dir);
	assert_int_equal(vigil_file_replace(missing_tmp, t->path, 0600, &iov, 1), -ENOENT);
	slurp(t->path, got, sizeof(got));
	assert_string_equal(got, "old");
	/* the target's directory is missing: the rename fails and the temporary file goes */
	snprintf(missing_path, sizeof(missing_path), "%s/nosuch/state", t->dir);
	assert_int_equal(vigil_file_replace(t->tmp, missing_path, 0600, &iov, 1), -ENOENT);
	assert_int_equal(access(t->tmp, F_OK), -1);
	/* the target is a directory: rename refuses, the temporary file goes */
	snprintf(missing_path, sizeof(missing_path), "%s/adir", t->dir);
	assert_int_equal(mkdir(missing_path, 0700), 0);
	assert_int_equal(vigil_file_replace(t->tmp, missing_path, 0600, &iov, 1), -EISDIR);
	assert_int_equal(rmdir(missing_path), 0);
	assert_int_equal(access(t->tmp, F_OK), -1);
	slurp(t->path, got, sizeof(got));
	assert_string_equal(got, "old");
}

/* ---- the print callback ---- */

static char captured[256];
static enum vigil_log_level captured_level;
static int captured_calls;

static void capture(enum vigil_log_level level, const char *fmt, va_list ap)
{
	captured_calls++;
	captured_level = level;
	vsnprintf(captured, sizeof(captured), fmt, ap);
}

/* vigil_print_stderr through a va_list, as the library calls it */
static void print_stderr(enum vigil_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vigil_print_stderr(level, fmt, ap);
	va_end(ap);
}

static void test_log_goes_to_the_installed_callback_only(void **ctx)
{
	vigil_print_fn old;

	(void)ctx;
	old = vigil_set_print(capture);
	assert_true(old == vigil_print_stderr);	/* the default */
	pr_warn("disk %s at %d%%", "sda", 97);
	assert_int_equal(captured_calls, 1);
	assert_int_equal(captured_level, VIGIL_LOG_WARN);
	assert_string_equal(captured, "vigil: disk sda at 97%\n");
	/* the callback decides about debug, not vigil_log */
	pr_debug("d");
	assert_int_equal(captured_calls, 2);
	assert_int_equal(captured_level, VIGIL_LOG_DEBUG);

	/* NULL silences; setting returns what was installed */
	assert_true(vigil_set_print(NULL) == capture);
	pr_info("unheard");
	assert_int_equal(captured_calls, 2);
	assert_null(vigil_set_print(old));
}

static void test_print_stderr_hides_debug_unless_enabled(void **state)
{
	struct tmpdir *t = *state;
	char got[128];
	int saved = dup(STDERR_FILENO), fd = open(t->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(saved >= 0 && fd >= 0);
	fflush(stderr);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	close(fd);
	print_stderr(VIGIL_LOG_WARN, "w%d;", 1);
	print_stderr(VIGIL_LOG_DEBUG, "hidden;");
	vigil_print_set_debug(1);
	print_stderr(VIGIL_LOG_DEBUG, "d%d;", 2);
	vigil_print_set_debug(0);
	print_stderr(VIGIL_LOG_DEBUG, "hidden again;");
	print_stderr(VIGIL_LOG_INFO, "i;");
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	slurp(t->path, got, sizeof(got));
	assert_string_equal(got, "w1;d2;i;");
}

/* vigil loglevel set: the level changes at run time; warning hides info and debug */
static void test_print_level_set_at_run_time_hides_what_is_above_it(void **state)
{
	struct tmpdir *t = *state;
	char got[128];
	int saved = dup(STDERR_FILENO), fd = open(t->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(saved >= 0 && fd >= 0);
	assert_int_equal(vigil_print_level(), VIGIL_LOG_INFO);
	fflush(stderr);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	close(fd);
	vigil_print_set_level(VIGIL_LOG_WARN);
	assert_int_equal(vigil_print_level(), VIGIL_LOG_WARN);
	print_stderr(VIGIL_LOG_INFO, "hidden;");
	print_stderr(VIGIL_LOG_DEBUG, "hidden;");
	print_stderr(VIGIL_LOG_WARN, "w;");
	vigil_print_set_level(VIGIL_LOG_DEBUG);
	print_stderr(VIGIL_LOG_DEBUG, "d;");
	vigil_print_set_level(VIGIL_LOG_INFO);
	print_stderr(VIGIL_LOG_DEBUG, "hidden;");
	print_stderr(VIGIL_LOG_INFO, "i;");
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	slurp(t->path, got, sizeof(got));
	assert_string_equal(got, "w;d;i;");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_grows_and_stays_nul_terminated),
		cmocka_unit_test(test_buf_printf_appends_past_the_first_block),
		cmocka_unit_test(test_parse_long_accepts_decimal_in_range),
		cmocka_unit_test(test_parse_long_refuses_junk_and_range_and_leaves_out_alone),
		cmocka_unit_test(test_parse_duration_go_style_and_seconds),
		cmocka_unit_test(test_base64_round_trips_every_byte_and_length),
		cmocka_unit_test(test_base64_decode_refuses_characters_outside_the_alphabet),
		cmocka_unit_test(test_base64_decode_stops_at_padding_and_at_n),
		cmocka_unit_test(test_format_time_picks_0_3_6_or_9_digits),
		cmocka_unit_test(test_format_time_calendar_matches_gmtime),
		cmocka_unit_test(test_parse_time_calendar_edges_and_bad_input),
		cmocka_unit_test_setup_teardown(test_file_replace_writes_every_iovec_then_renames, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_file_replace_fails_with_errno_and_leaves_path_alone, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test(test_log_goes_to_the_installed_callback_only),
		cmocka_unit_test_setup_teardown(test_print_stderr_hides_debug_unless_enabled, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_print_level_set_at_run_time_hides_what_is_above_it, tmpdir_setup,
						tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

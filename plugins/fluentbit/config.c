/* config.c - the command line of vigil-forward: a const option table, strict value parsing
 * (ranges, units, and no trailing junk), then the checks that span several options. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "common/common.h"
#include "config.h"
#include "conn.h"
#include "tag.h"

#define KiB 1024L
#define MiB (1024L * KiB)
#define GiB (1024L * MiB)

enum kind {
	K_STR,		/* any non-empty string */
	K_LONG,		/* decimal integer in [min, max] */
	K_SIZE,		/* bytes, with an optional K, M or G suffix (powers of 1024) */
	K_CHOICE,	/* one of choices[]; the index is stored */
	K_FLAG,		/* no argument; stores 1 */
};

struct opt {
	const char *name;
	int key;			/* getopt's value: a short letter, or 256 + table index */
	enum kind kind;
	size_t off;			/* offsetof(struct fwd_config, field) */
	long min, max;
	const char *const *choices;	/* K_CHOICE, NULL-terminated */
	const char *arg;		/* the argument's name in the usage text */
	const char *help;
};

static const char *const compress_names[] = { "none", "gzip", NULL };
static const char *const onoff_names[] = { "off", "on", NULL };
static const char *const source_names[] = { "bus", "journal", NULL };

#define OFF(field) offsetof(struct fwd_config, field)

static const struct opt opts[] = {
	{ "to", 't', K_STR, OFF(to), 0, 0, NULL, "URL",
	  "Forward peer: unix:///path/to.sock or tcp://host:port (required)" },
	{ "bus", 'b', K_STR, OFF(bus), 0, 0, NULL, "URL", "vigil event bus to subscribe to" },
	{ "source", 0, K_CHOICE, OFF(source), 0, 0, source_names, "bus|journal",
	  "bus: subscribe, report losses as vigil.delivery_loss records; journal: pull the agent's "
	  "journal (vigild --journal-dir, needs root): nothing lost while its bound holds" },
	{ "control", 0, K_STR, OFF(control), 0, 0, NULL, "URL", "the agent's control socket (--source journal)" },
	{ "tag", 0, K_STR, OFF(tag), 0, 0, NULL, "TEMPLATE",
	  "tag; {event_type} and {node_name} are replaced" },
	{ "compress", 0, K_CHOICE, OFF(compress), 0, 0, compress_names, "none|gzip",
	  "gzip: CompressedPackedForward" },
	{ "ack", 0, K_CHOICE, OFF(ack), 0, 0, onoff_names, "on|off",
	  "on: chunk ids, a batch leaves the spool only when acked" },
	{ "batch-count", 0, K_LONG, OFF(batch_count), 1, 65535, NULL, "N", "events per batch, at most" },
	{ "batch-bytes", 0, K_SIZE, OFF(batch_bytes), 1 * KiB, 64 * MiB, NULL, "SIZE",
	  "packed bytes per batch, at most (a single larger event still goes alone)" },
	{ "flush-ms", 0, K_LONG, OFF(flush_ms), 1, 60000, NULL, "MS", "seal a batch this long after its first event" },
	{ "max-inflight", 0, K_LONG, OFF(max_inflight), 1, 1024, NULL, "N", "batches awaiting their ack, at most" },
	{ "ack-timeout-ms", 0, K_LONG, OFF(ack_timeout_ms), 100, 3600000, NULL, "MS",
	  "no ack this long after sending: reconnect and resend" },
	{ "retry-min-ms", 0, K_LONG, OFF(retry_min_ms), 10, 3600000, NULL, "MS", "first reconnect delay" },
	{ "retry-max-ms", 0, K_LONG, OFF(retry_max_ms), 10, 3600000, NULL, "MS", "reconnect delay cap (doubling)" },
	{ "mem-limit", 0, K_SIZE, OFF(mem_limit), 4 * KiB, 16 * GiB, NULL, "SIZE",
	  "batches held in memory, in flight included" },
	{ "spool-dir", 0, K_STR, OFF(spool_dir), 0, 0, NULL, "DIR",
	  "spill batches here when memory is full; reloaded at start" },
	{ "spool-max", 0, K_SIZE, OFF(spool_max), 4 * KiB, 1024 * GiB, NULL, "SIZE", "size cap of the disk spool" },
	{ "drain-ms", 0, K_LONG, OFF(drain_ms), 0, 600000, NULL, "MS",
	  "on SIGTERM, keep delivering this long, then persist the rest" },
	{ "stats-file", 0, K_STR, OFF(stats_file), 0, 0, NULL, "PATH", "write counters here as JSON" },
	{ "stats-ms", 0, K_LONG, OFF(stats_ms), 100, 3600000, NULL, "MS", "stats file period" },
	{ "bus-rcvbuf", 0, K_SIZE, OFF(bus_rcvbuf), 128 * KiB, 1 * GiB, NULL, "SIZE",
	  "receive buffer of the bus subscription" },
	{ "verbose", 'v', K_FLAG, OFF(verbose), 0, 0, NULL, NULL, "debug messages" },
};

static const struct fwd_config defaults = {
	.bus = VIGIL_BUS_DEFAULT_EVENTS,
	.control = VIGIL_BUS_DEFAULT_CONTROL,
	.source = FWD_SOURCE_BUS,
	.tag = "vigil.{event_type}",
	.compress = FWD_COMPRESS_NONE,
	.ack = 1,
	.batch_count = 256,
	.batch_bytes = 256 * KiB,
	.flush_ms = 200,
	.max_inflight = 16,
	.ack_timeout_ms = 10000,
	.retry_min_ms = 200,
	.retry_max_ms = 10000,
	.mem_limit = 16 * MiB,
	.spool_max = 256 * MiB,
	.drain_ms = 3000,
	.stats_ms = 1000,
	.bus_rcvbuf = 4 * MiB,
};

static long *long_at(struct fwd_config *cfg, const struct opt *o)
{
	return (long *)((char *)cfg + o->off);
}

static const char **str_at(struct fwd_config *cfg, const struct opt *o)
{
	return (const char **)((char *)cfg + o->off);
}

static void format_size(long v, char *out, size_t size)
{
	if (v % GiB == 0)
		snprintf(out, size, "%ldG", v / GiB);
	else if (v % MiB == 0)
		snprintf(out, size, "%ldM", v / MiB);
	else if (v % KiB == 0)
		snprintf(out, size, "%ldK", v / KiB);
	else
		snprintf(out, size, "%ld", v);
}

static void usage(FILE *f)
{
	struct fwd_config d = defaults;
	char left[64], def[64];
	size_t i;

	fprintf(f, "usage: vigil-forward --to URL [options]\n"
		   "Forward vigil events to a Fluent Bit or Fluentd forward input.\n\n");
	for (i = 0; i < VIGIL_ARRAY_SIZE(opts); i++) {
		const struct opt *o = &opts[i];

		def[0] = '\0';
		if (o->kind == K_STR && *str_at(&d, o))
			snprintf(def, sizeof(def), " (default %s)", *str_at(&d, o));
		else if (o->kind == K_LONG)
			snprintf(def, sizeof(def), " (default %ld)", *long_at(&d, o));
		else if (o->kind == K_SIZE) {
			char s[32];

			format_size(*long_at(&d, o), s, sizeof(s));
			snprintf(def, sizeof(def), " (default %s)", s);
		} else if (o->kind == K_CHOICE)
			snprintf(def, sizeof(def), " (default %s)", o->choices[*long_at(&d, o)]);
		snprintf(left, sizeof(left), "%c%c%c --%s%s%s", o->key < 256 && o->key ? '-' : ' ',
			 o->key < 256 && o->key ? o->key : ' ', o->key < 256 && o->key ? ',' : ' ', o->name,
			 o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-32s %s%s\n", left, o->help, def);
	}
	fprintf(f, "  -h, --help\n      --version\n");
}

/* Bytes with an optional K/M/G suffix (powers of 1024), in [min, max]. */
static int parse_size(const char *s, long min, long max, long *out)
{
	char digits[32], *end = NULL;
	unsigned long long v, mul = 1;
	size_t n = strlen(s);

	if (!n || n >= sizeof(digits))
		return -EINVAL;
	memcpy(digits, s, n + 1);
	switch (digits[n - 1]) {
	case 'K': case 'k': mul = KiB; digits[--n] = '\0'; break;
	case 'M': case 'm': mul = MiB; digits[--n] = '\0'; break;
	case 'G': case 'g': mul = GiB; digits[--n] = '\0'; break;
	default: break;
	}
	/* strtoull would accept leading blanks and a minus sign: demand digits only */
	if (!n || strspn(digits, "0123456789") != n)
		return -EINVAL;
	errno = 0;
	v = strtoull(digits, &end, 10);
	if (errno || *end || v > (unsigned long long)LONG_MAX / mul)
		return -ERANGE;
	v *= mul;
	if ((long long)v < min || (long long)v > max)
		return -ERANGE;
	*out = (long)v;
	return 0;
}

static int bad_value(const struct opt *o, const char *value)
{
	char lo[32], hi[32];

	switch (o->kind) {
	case K_LONG:
		fprintf(stderr, "vigil-forward: invalid --%s '%s': expected an integer in %ld..%ld\n",
			o->name, value, o->min, o->max);
		break;
	case K_SIZE:
		format_size(o->min, lo, sizeof(lo));
		format_size(o->max, hi, sizeof(hi));
		fprintf(stderr, "vigil-forward: invalid --%s '%s': expected a size in %s..%s (suffix K, M or G)\n",
			o->name, value, lo, hi);
		break;
	case K_CHOICE:
		fprintf(stderr, "vigil-forward: invalid --%s '%s': expected %s\n", o->name, value, o->arg);
		break;
	default:
		fprintf(stderr, "vigil-forward: invalid --%s '%s'\n", o->name, value);
		break;
	}
	usage(stderr);
	return -EINVAL;
}

static int set_value(struct fwd_config *cfg, const struct opt *o, const char *value)
{
	size_t i;

	switch (o->kind) {
	case K_STR:
		if (!*value)
			return bad_value(o, value);
		*str_at(cfg, o) = value;
		return 0;
	case K_LONG:
		if (vigil_parse_long(value, o->min, o->max, long_at(cfg, o)))
			return bad_value(o, value);
		return 0;
	case K_SIZE:
		if (parse_size(value, o->min, o->max, long_at(cfg, o)))
			return bad_value(o, value);
		return 0;
	case K_CHOICE:
		for (i = 0; o->choices[i]; i++) {
			if (!strcmp(o->choices[i], value)) {
				*long_at(cfg, o) = (long)i;
				return 0;
			}
		}
		return bad_value(o, value);
	case K_FLAG:
		*long_at(cfg, o) = 1;
		return 0;
	}
	return -EINVAL;
}

/* Checks that involve more than one option, or a value's syntax beyond its type. */
static int check(const struct fwd_config *cfg)
{
	struct fwd_endpoint ep;
	const char *why = NULL;

	if (!cfg->to)
		why = "--to is required";
	else if (endpoint_parse(cfg->to, &ep))
		why = "--to must be unix:///absolute/path or tcp://host:port";
	else if (tag_check(cfg->tag))
		why = "--tag: letters, digits, '.', '_', '-' and the placeholders {event_type}, {node_name}";
	else if (cfg->retry_min_ms > cfg->retry_max_ms)
		why = "--retry-min-ms must not exceed --retry-max-ms";
	else if (cfg->mem_limit < cfg->batch_bytes)
		why = "--mem-limit must hold at least one batch (--batch-bytes)";
	else if (cfg->spool_dir && cfg->spool_max < cfg->batch_bytes)
		why = "--spool-max must hold at least one batch (--batch-bytes)";
	if (!why)
		return 0;
	fprintf(stderr, "vigil-forward: %s\n", why);
	usage(stderr);
	return -EINVAL;
}

int config_parse(struct fwd_config *cfg, int argc, char **argv)
{
	struct option longopts[VIGIL_ARRAY_SIZE(opts) + 3];
	char shorts[3 * VIGIL_ARRAY_SIZE(opts) + 3];
	size_t i, ns = 0;
	int c;

	*cfg = defaults;
	for (i = 0; i < VIGIL_ARRAY_SIZE(opts); i++) {
		const struct opt *o = &opts[i];

		longopts[i] = (struct option){ o->name, o->kind == K_FLAG ? no_argument : required_argument, NULL,
					       o->key ? o->key : 256 + (int)i };
		if (o->key) {
			shorts[ns++] = (char)o->key;
			if (o->kind != K_FLAG)
				shorts[ns++] = ':';
		}
	}
	longopts[i++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[i++] = (struct option){ "version", no_argument, NULL, 'V' };
	longopts[i] = (struct option){ NULL, 0, NULL, 0 };
	shorts[ns++] = 'h';
	shorts[ns] = '\0';

	optind = 1;
	while ((c = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
		const struct opt *o = NULL;

		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		if (c == 'V') {
			printf("vigil-forward %s\n", VIGIL_VERSION);
			return 1;
		}
		if (c >= 256 && c - 256 < (int)VIGIL_ARRAY_SIZE(opts))
			o = &opts[c - 256];
		for (i = 0; !o && i < VIGIL_ARRAY_SIZE(opts); i++)
			if (opts[i].key == c)
				o = &opts[i];
		if (!o) {
			usage(stderr);
			return -EINVAL;
		}
		if (set_value(cfg, o, optarg))
			return -EINVAL;
	}
	if (optind < argc) {
		fprintf(stderr, "vigil-forward: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return -EINVAL;
	}
	return check(cfg);
}

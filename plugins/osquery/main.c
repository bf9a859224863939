/* main.c - vigil.ext: an osquery extension serving vigil's events as tables.
 *
 * Lifecycle: subscribe to the bus (rows buffer from the start), register the tables with
 * the extension manager (retrying while osquery is not up), serve Extension calls on
 * <socket>.<uuid>, and every --interval ask the manager whether it still knows our uuid.
 * Exit when it does not, when the manager is gone, on shutdown(), or on SIGTERM/SIGINT
 * (which also deregisters).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus/bus.h"
#include "ext.h"
#include "log.h"

/* Defaults: osquery's own (--extensions_socket, --extensions_timeout,
 * --extensions_interval), and a buffer sized for a scheduled query every few minutes. */
#define DEFAULT_SOCKET "/var/osquery/osquery.em"
#define DEFAULT_TIMEOUT_S 3
#define DEFAULT_INTERVAL_S 3
#define DEFAULT_MAX_EVENTS 10000
#define DEFAULT_EXPIRY_S 3600
/* Upper bounds that only catch typos: 10 M rows of a few hundred bytes each per table is
 * already gigabytes, and a month is longer than any query interval. */
#define MAX_EVENTS_LIMIT 10000000
#define EXPIRY_LIMIT_S (30 * 86400)
#define TIMEOUT_LIMIT_S 86400

static struct ext *running;	/* for the signal handler */

static void on_signal(int sig)
{
	int expected = EXT_RUNNING;

	atomic_compare_exchange_strong(&running->stop, &expected, EXT_STOP_SIGNAL);
}

static const struct option options[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "timeout", required_argument, NULL, 't' },
	{ "interval", required_argument, NULL, 'i' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "bus", required_argument, NULL, 'b' },
	{ "control", required_argument, NULL, 'c' },
	{ "max-events", required_argument, NULL, 'm' },
	{ "expiry", required_argument, NULL, 'e' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigil.ext [options]   (osquery starts it with --socket, --timeout, --interval)\n"
		"  --socket PATH        extension manager socket (default %s)\n"
		"  --timeout SECONDS    keep trying to register this long (default %d)\n"
		"  --interval SECONDS   check the manager still knows us this often (default %d)\n"
		"  --verbose            debug messages\n"
		"  --bus URL            vigil event bus ($VIGIL_BUS, default %s)\n"
		"  --control URL        vigil control socket ($VIGIL_CONTROL, default %s)\n"
		"  --max-events N       rows kept per table ($VIGIL_OSQUERY_MAX_EVENTS, default %d)\n"
		"  --expiry SECONDS     how long a row is kept ($VIGIL_OSQUERY_EXPIRY, default %d)\n",
		DEFAULT_SOCKET, DEFAULT_TIMEOUT_S, DEFAULT_INTERVAL_S, VIGIL_BUS_DEFAULT_EVENTS,
		VIGIL_BUS_DEFAULT_CONTROL, DEFAULT_MAX_EVENTS, DEFAULT_EXPIRY_S);
}

static int bad_value(const char *what, const char *value)
{
	fprintf(stderr, "vigil.ext: invalid %s: '%s'\n", what, value);
	usage(stderr);
	return -EINVAL;
}

static int parse_uint(const char *what, const char *s, long min, long max, long *out)
{
	return vigil_parse_long(s, min, max, out) ? bad_value(what, s) : 0;
}

/* Environment first (osquery's autoload passes no options of ours), then the command line. */
static int parse_options(int argc, char **argv, struct ext_options *o)
{
	const char *env;
	long v;
	int c, err = 0;

	*o = (struct ext_options){
		.socket = DEFAULT_SOCKET,
		.timeout_s = DEFAULT_TIMEOUT_S,
		.interval_s = DEFAULT_INTERVAL_S,
		.bus_url = getenv("VIGIL_BUS") ? getenv("VIGIL_BUS") : VIGIL_BUS_DEFAULT_EVENTS,
		.control_url = getenv("VIGIL_CONTROL") ? getenv("VIGIL_CONTROL") : VIGIL_BUS_DEFAULT_CONTROL,
		.max_events = DEFAULT_MAX_EVENTS,
		.expiry_s = DEFAULT_EXPIRY_S,
	};
	env = getenv("VIGIL_OSQUERY_MAX_EVENTS");
	if (env && !(err = parse_uint("VIGIL_OSQUERY_MAX_EVENTS", env, 1, MAX_EVENTS_LIMIT, &v)))
		o->max_events = (size_t)v;
	env = getenv("VIGIL_OSQUERY_EXPIRY");
	if (!err && env && !(err = parse_uint("VIGIL_OSQUERY_EXPIRY", env, 1, EXPIRY_LIMIT_S, &v)))
		o->expiry_s = (unsigned int)v;

	optind = 1;
	while (!err && (c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 's': o->socket = optarg; break;
		case 't':
			if (!(err = parse_uint("timeout", optarg, 0, TIMEOUT_LIMIT_S, &v)))
				o->timeout_s = (unsigned int)v;
			break;
		case 'i':
			/* osquery's minimum interval is below a second; ours is one */
			if (!(err = parse_uint("interval", optarg, 0, TIMEOUT_LIMIT_S, &v)))
				o->interval_s = v ? (unsigned int)v : 1;
			break;
		case 'v': o->verbose = true; break;
		case 'b': o->bus_url = optarg; break;
		case 'c': o->control_url = optarg; break;
		case 'm':
			if (!(err = parse_uint("max-events", optarg, 1, MAX_EVENTS_LIMIT, &v)))
				o->max_events = (size_t)v;
			break;
		case 'e':
			if (!(err = parse_uint("expiry", optarg, 1, EXPIRY_LIMIT_S, &v)))
				o->expiry_s = (unsigned int)v;
			break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -EINVAL;
		}
	}
	if (!err && optind < argc)
		err = bad_value("argument", argv[optind]);
	return err;
}

void ext_nap(struct ext *x, int64_t ms)
{
	struct timespec ts;
	int64_t step;

	while (ms > 0 && !ext_stopping(x)) {
		step = ms < EXT_POLL_MS ? ms : EXT_POLL_MS;
		ts.tv_sec = 0;
		ts.tv_nsec = step * 1000000;
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

/* Until a stop, ask the manager every interval whether it still knows us, as osquery's
 * SDK watcher does: an extension it forgot would serve nobody. */
static void watch(struct ext *x)
{
	bool found;
	int err;

	for (;;) {
		ext_nap(x, (int64_t)x->opt.interval_s * 1000);
		if (ext_stopping(x))
			break;
		err = mgr_is_registered(x, &found);
		if (err) {
			log_info("extension manager %s gone (%s): exiting", x->opt.socket, strerror(-err));
			break;
		}
		if (!found) {
			log_info("uuid %" PRId64 " no longer registered: exiting", x->uuid);
			break;
		}
	}
}

static int stores_new(struct ext *x)
{
	size_t i;

	x->stores = calloc(ntables, sizeof(*x->stores));
	if (!x->stores)
		return -ENOMEM;
	for (i = 0; i < ntables; i++) {
		if (!tables[i]->extract)
			continue;
		x->stores[i] = store_new(x->opt.max_events, x->opt.expiry_s);
		if (!x->stores[i])
			return -errno;
	}
	return 0;
}

static void stores_free(struct ext *x)
{
	size_t i;

	for (i = 0; x->stores && i < ntables; i++)
		store_free(x->stores[i]);
	free(x->stores);
	x->stores = NULL;
}

int main(int argc, char **argv)
{
	struct ext x = { .stop = EXT_RUNNING, .delivery_lock = PTHREAD_MUTEX_INITIALIZER };
	struct sigaction sa = { .sa_handler = on_signal };
	struct feed *feed = NULL;
	struct server *srv = NULL;
	char why[256] = "";
	int err, rc = 1;

	err = parse_options(argc, argv, &x.opt);
	if (err)
		return err > 0 ? 0 : 2;
	log_verbose = x.opt.verbose;
	vigil_print_set_debug(x.opt.verbose);
	running = &x;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	err = stores_new(&x);
	if (err) {
		log_warn("cannot allocate the tables: %s", strerror(-err));
		goto out;
	}
	/* subscribe first, so rows buffer while we register */
	feed = feed_start(&x);
	if (!feed)
		goto out;
	err = mgr_register(&x, why, sizeof(why));
	if (err == -ECANCELED) {
		rc = 0;
		goto out;
	}
	if (err) {
		log_warn("cannot register with %s: %s", x.opt.socket, why[0] ? why : strerror(-err));
		goto out;
	}
	if (asprintf(&x.path, "%s.%" PRId64, x.opt.socket, x.uuid) < 0) {
		x.path = NULL;
		goto out;
	}
	/* the manager probes this socket within --extensions_timeout of registering */
	srv = server_start(&x);
	if (!srv)
		goto out;
	log_info("registered as uuid %" PRId64 ", serving %zu tables on %s", x.uuid, ntables, x.path);
	watch(&x);
	if (atomic_load(&x.stop) == EXT_STOP_SIGNAL)
		mgr_deregister(&x);
	rc = 0;
out:
	server_stop(srv);
	feed_stop(feed);
	stores_free(&x);
	free(x.path);
	return rc;
}

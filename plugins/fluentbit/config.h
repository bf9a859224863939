/* config.h - vigil-forward's settings. One const table (config.c) drives the command line,
 * the validation of every value and the usage text. */
#ifndef FWD_CONFIG_H
#define FWD_CONFIG_H

#include <stdbool.h>

enum fwd_compress { FWD_COMPRESS_NONE, FWD_COMPRESS_GZIP };
/* bus: the event bus, losses reported; journal: the agent's journal, none while its bound
 * holds (vigild --journal-dir, root) */
enum fwd_source { FWD_SOURCE_BUS, FWD_SOURCE_JOURNAL };

/* Every numeric setting is a long so one table can describe them all. Strings are borrowed
 * from argv (or are static defaults) and live as long as the process. */
struct fwd_config {
	const char *bus;		/* vigil event bus URL */
	const char *control;		/* the agent's control socket (--source journal) */
	long source;			/* enum fwd_source */
	const char *to;			/* Forward peer: unix:///path or tcp://host:port */
	const char *tag;		/* tag template, see tag.h */
	const char *spool_dir;		/* NULL: memory spool only */
	const char *stats_file;		/* NULL: no stats file */
	long compress;			/* enum fwd_compress */
	long ack;			/* 1: chunk ids and acks (at-least-once); 0: fire and forget */
	long batch_count;		/* seal a batch at this many events... */
	long batch_bytes;		/* ...or this many bytes of packed entries... */
	long flush_ms;			/* ...or when its first event is this old */
	long max_inflight;		/* batches sent and not yet acked, at most */
	long ack_timeout_ms;		/* no ack for this long: reconnect and resend */
	long retry_min_ms;		/* reconnect backoff, doubling from min to max */
	long retry_max_ms;
	long mem_limit;			/* bytes of batches held in memory (spool, in flight included) */
	long spool_max;			/* bytes of batch files in spool_dir */
	long drain_ms;			/* on SIGTERM, keep delivering this long before persisting */
	long stats_ms;			/* stats file period */
	long bus_rcvbuf;		/* nanomsg receive buffer of the bus subscription */
	long verbose;
};

/* Fill cfg from argv, defaults first. Returns 0 to run, 1 when --help or --version was
 * printed (exit 0), or -EINVAL after the reason and the usage went to stderr (exit 2). */
int config_parse(struct fwd_config *cfg, int argc, char **argv);

#endif

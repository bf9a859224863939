/* main.c - vigil-forward: vigil's event bus into a Fluent Bit or Fluentd forward input.
 *
 * One thread and one poll loop carry every event through:
 *   bus (nanomsg SUB) -> intake: decode, tag, EventTime -> batcher: per tag, sealed by
 *   count, bytes or age -> frame: PackedForward (gzip optional) with a chunk id ->
 *   spool: memory, then disk, both capped -> ship: write in order, read acks, reconnect
 *   with backoff -> peer.
 * SIGTERM stops the intake, seals open batches, keeps delivering for --drain-ms, then
 * saves what is left to the spool directory.
 *
 * With --source journal and a spool directory, where to resume is kept there too
 * (resume.c): the lowest seq not yet acknowledged by the peer, so events published while
 * the forwarder was down (or taken but not delivered when it died) are read again from the
 * journal. At a clean stop every event taken is in the spool files, so the position is
 * then the next seq to take.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "config.h"
#include "frame.h"
#include "intake.h"
#include "log.h"
#include "resume.h"
#include "ship.h"
#include "spool.h"
#include "stats.h"

/* The journal position is saved at most this often (and at exit). */
#define RESUME_SAVE_MS 500

/* Bus messages taken per loop turn, so a storm cannot starve the peer's socket. */
#define DRAIN_PER_TURN 1024
/* After a turn that emptied the bus queue, the bus is not watched for this long: events
 * that trickle in are then taken a few hundred at a time instead of one wake-up (poll,
 * the bus's read, clock reads) each. Batches wait --flush-ms (200 by default) anyway,
 * and the receive buffer (--bus-rcvbuf, 4 MiB) holds far more than this at any rate. */
#define INTAKE_LINGER_MS 2

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	stop_requested = 1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct pipeline {
	const struct fwd_config *cfg;
	struct fwd_stats st;
	struct fwd_spool *spool;
	struct fwd_batcher *batcher;
	struct fwd_intake *intake;
	struct fwd_ship *ship;
	uint64_t saved_inc, saved_next;	/* the journal position last written */
	uint64_t save_at;
	bool stop_known;		/* the journal position when the intake stopped */
	uint64_t stop_inc, stop_next;
};

/* batch_seal_fn: a sealed batch becomes a Forward message in the spool. */
static void seal(void *ctx, const char *tag, const void *entries, size_t len, uint32_t n, uint64_t first_seq)
{
	struct pipeline *p = ctx;
	struct vigil_buf msg = { 0 };
	char chunk[FWD_CHUNK_LEN + 1] = "";
	int err = 0;

	if (p->cfg->ack)
		err = frame_chunk_id(chunk);
	if (!err)
		err = frame_encode(&msg, tag, entries, len, n, p->cfg->ack ? chunk : NULL,
				   p->cfg->compress == FWD_COMPRESS_GZIP);
	if (err) {
		p->st.encode_errors++;
		p->st.dropped_batches++;
		p->st.dropped_events += n;
		fwd_warn("cannot encode a batch of %u events: %s", n, strerror(-err));
		vigil_buf_free(&msg);
		return;
	}
	p->st.batches_sealed++;
	spool_push(p->spool, &msg, n, p->cfg->ack ? chunk : NULL, first_seq);
}

static uint64_t min3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t m = a < b ? a : b;

	return m < c ? m : c;
}

static void write_stats(const struct pipeline *p)
{
	int err;

	if (!p->cfg->stats_file)
		return;
	err = stats_write(&p->st, p->cfg->stats_file);
	if (err)
		fwd_warn("cannot write %s: %s", p->cfg->stats_file, strerror(-err));
}

/* Save where the journal is to be read from next start: the lowest seq still waiting for
 * the peer's ack, in an open batch or in the spool, or the next seq to take. At exit
 * (at_exit), the next seq to take: whatever was taken is in the spool directory now. */
static void save_position(struct pipeline *p, bool at_exit)
{
	uint64_t inc, next, b, s;
	int err;

	if (!p->cfg->spool_dir || p->cfg->source != FWD_SOURCE_JOURNAL)
		return;
	if (at_exit) {
		if (!p->stop_known && !intake_position(p->intake, &p->stop_inc, &p->stop_next))
			return;
		inc = p->stop_inc;
		next = p->stop_next;
	} else if (!intake_position(p->intake, &inc, &next)) {
		return;
	} else {
		b = batcher_min_seq(p->batcher);
		s = spool_min_seq(p->spool);
		if (b && b < next)
			next = b;
		if (s && s < next)
			next = s;
	}
	if (inc == p->saved_inc && next == p->saved_next)
		return;
	err = resume_save(p->cfg->spool_dir, inc, next);
	if (err) {
		p->st.disk_errors++;
		fwd_warn("cannot save the journal position in %s: %s", p->cfg->spool_dir, strerror(-err));
		return;
	}
	p->saved_inc = inc;
	p->saved_next = next;
}

/* The journal is pulled only while our own backlog is short: what the peer has not taken
 * yet waits in the agent's journal, not in our memory, where the spool's cap would drop
 * it. */
static bool journal_may_pull(const struct pipeline *p)
{
	return p->st.queued_batches < (uint64_t)p->cfg->max_inflight * 2 &&
	       p->st.mem_bytes + (8u << 20) < (uint64_t)p->cfg->mem_limit;
}

/* The loop. Returns 0 after a requested stop, or -errno when the bus failed. */
static int run(struct pipeline *p, const sigset_t *waitmask)
{
	const struct fwd_config *cfg = p->cfg;
	uint64_t now = now_ms(), stats_at = now + (uint64_t)cfg->stats_ms, drain_until = UINT64_MAX;
	uint64_t intake_at = 0;		/* when the bus is watched again */
	int err = 0;

	for (;;) {
		struct pollfd pfd[2];
		struct timespec ts;
		uint64_t due;
		int n;

		if (stop_requested && p->intake) {
			batcher_flush(p->batcher, now, true);
			save_position(p, false);
			p->stop_known = intake_position(p->intake, &p->stop_inc, &p->stop_next);
			intake_close(p->intake);
			p->intake = NULL;
			ship_run(p->ship, 0, now);
			drain_until = now + (uint64_t)cfg->drain_ms;
			fwd_info("stopping: %llu batches still to deliver, waiting up to %ld ms",
				 (unsigned long long)p->st.queued_batches, cfg->drain_ms);
		}
		if (!p->intake && (spool_empty(p->spool) || now >= drain_until))
			break;

		due = min3(batcher_deadline(p->batcher), ship_deadline(p->ship), drain_until);
		if (p->intake && journal_may_pull(p) && intake_pull_due(p->intake) < due)
			due = intake_pull_due(p->intake);
		if (cfg->stats_file && stats_at < due)
			due = stats_at;
		if (p->intake && intake_at > now && intake_at < due)
			due = intake_at;
		due = due <= now ? 0 : due - now;
		if (due > 60000)
			due = 60000;		/* nothing due: wake up once a minute anyway */
		ts.tv_sec = (time_t)(due / 1000);
		ts.tv_nsec = (long)(due % 1000) * 1000000;
		pfd[0] = (struct pollfd){ .fd = p->intake && now >= intake_at ? intake_fd(p->intake) : -1,
					  .events = POLLIN };
		ship_poll_events(p->ship, &pfd[1]);
		/* ppoll unblocks SIGTERM/SIGINT only while waiting: a stop can never slip in
		 * between the check above and the wait */
		n = ppoll(pfd, 2, &ts, waitmask);
		if (n < 0 && errno != EINTR) {
			err = -errno;
			fwd_warn("poll: %s", strerror(errno));
			break;
		}
		now = now_ms();
		if (p->intake && ((n > 0 && pfd[0].revents) ||
				  (journal_may_pull(p) && now >= intake_pull_due(p->intake)))) {
			n = intake_drain(p->intake, p->batcher, &p->st, now, DRAIN_PER_TURN);
			if (n < 0) {
				err = n;
				fwd_warn("bus %s failed: %s", cfg->bus, strerror(-err));
				break;
			}
			if (n < DRAIN_PER_TURN)
				intake_at = now + INTAKE_LINGER_MS;
		}
		batcher_flush(p->batcher, now, false);
		ship_run(p->ship, pfd[1].revents, now);
		if (p->intake && now >= p->save_at) {
			save_position(p, false);
			p->save_at = now + RESUME_SAVE_MS;
		}
		if (cfg->stats_file && now >= stats_at) {
			write_stats(p);
			stats_at = now + (uint64_t)cfg->stats_ms;
		}
	}
	return err;
}

/* The journal intake, from where the spool directory says the last run stopped. */
static struct fwd_intake *open_journal(struct pipeline *p)
{
	const struct fwd_config *cfg = p->cfg;
	uint64_t inc = 0, next = 0;
	int err = cfg->spool_dir ? resume_load(cfg->spool_dir, &inc, &next) : -ENOENT;

	if (!err)
		fwd_info("resuming the journal at seq %llu of agent incarnation %016llx", (unsigned long long)next,
			 (unsigned long long)inc);
	else if (err != -ENOENT)
		fwd_warn("ignoring %s/" FWD_RESUME_FILE " (%s): reading the journal from now on", cfg->spool_dir,
			 strerror(-err));
	if (err)
		inc = next = 0;
	p->saved_inc = inc;
	p->saved_next = next;
	return intake_open_journal(cfg->control, cfg->tag, inc, next);
}

int main(int argc, char **argv)
{
	struct fwd_config cfg;
	struct pipeline p = { .cfg = &cfg };
	struct sigaction sa = { .sa_handler = on_signal };
	struct spool_opts sopts;
	struct vigil_buf summary = { 0 };
	sigset_t block, waitmask;
	int rc, err;

	rc = config_parse(&cfg, argc, argv);
	if (rc)
		return rc > 0 ? 0 : 2;
	rc = 1;
	fwd_log_verbose(cfg.verbose);
	vigil_print_set_debug((int)cfg.verbose);
	srandom((unsigned int)(getpid() ^ (unsigned int)now_ms()));

	/* no SA_RESTART: ppoll must return on a stop request */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGTERM);

	sopts = (struct spool_opts){ .mem_limit = (uint64_t)cfg.mem_limit, .disk_limit = (uint64_t)cfg.spool_max,
				     .dir = cfg.spool_dir };
	p.spool = spool_open(&sopts, &p.st);
	if (!p.spool)
		goto out;
	p.batcher = batcher_new((uint32_t)cfg.batch_count, (size_t)cfg.batch_bytes, (uint64_t)cfg.flush_ms, seal, &p);
	if (!p.batcher) {
		fwd_warn("cannot start: %s", strerror(errno));
		goto out;
	}
	p.ship = ship_new(&cfg, p.spool, &p.st);
	if (!p.ship) {
		fwd_warn("cannot use --to %s: %s", cfg.to, strerror(errno));
		goto out;
	}
	if (cfg.source == FWD_SOURCE_JOURNAL)
		p.intake = open_journal(&p);
	else
		p.intake = intake_open(cfg.bus, cfg.bus_rcvbuf, cfg.tag);
	if (!p.intake) {
		fwd_warn("cannot subscribe to %s: %s", cfg.source == FWD_SOURCE_JOURNAL ? cfg.control : cfg.bus,
			 strerror(errno));
		goto out;
	}
	fwd_info("forwarding %s%s to %s (tag %s, %s, acks %s)",
		 cfg.source == FWD_SOURCE_JOURNAL ? "the journal at " : "",
		 cfg.source == FWD_SOURCE_JOURNAL ? cfg.control : cfg.bus, cfg.to, cfg.tag,
		 cfg.compress == FWD_COMPRESS_GZIP ? "CompressedPackedForward" : "PackedForward",
		 cfg.ack ? "on" : "off");
	write_stats(&p);

	err = run(&p, &waitmask);
	rc = err ? 1 : 0;

out:
	if (p.batcher)
		batcher_flush(p.batcher, now_ms(), true);	/* nothing is left open to lose silently */
	ship_free(p.ship);
	spool_close(p.spool, true);
	if (p.spool)
		save_position(&p, true);
	intake_close(p.intake);
	batcher_free(p.batcher);
	write_stats(&p);
	if (!stats_json(&p.st, &summary))
		fwd_info("stats %s", summary.data);
	vigil_buf_free(&summary);
	return rc;
}

/* intake.h - the bus side: subscribe, decode, tag and time each event, hand it to the
 * batcher. */
#ifndef FWD_INTAKE_H
#define FWD_INTAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "batch.h"
#include "stats.h"

struct fwd_intake;

/* Subscribe to url with a receive buffer of rcvbuf bytes; tag_tmpl is borrowed (see
 * tag.h). nanomsg connects lazily, so this succeeds while the agent is down. NULL + errno. */
struct fwd_intake *intake_open(const char *url, long rcvbuf, const char *tag_tmpl);
/* The tag of the records that report a hole (intake.c). */
#define FWD_LOSS_TAG "vigil.delivery_loss"

/* Read the agent's journal over its control socket instead (vigild --journal-dir; root),
 * from seq from_seq of that agent incarnation (a later incarnation: from its start), or
 * with 0s from the messages published after the first pull. NULL + errno. */
struct fwd_intake *intake_open_journal(const char *control_url, const char *tag_tmpl, uint64_t incarnation,
				       uint64_t from_seq);
/* The journal: the incarnation and the seq the next pull asks for, once a pull answered.
 * false before, and for the bus. */
bool intake_position(const struct fwd_intake *in, uint64_t *incarnation, uint64_t *next);
/* An fd that polls readable while bus messages wait; -1 for the journal. */
int intake_fd(const struct fwd_intake *in);
/* The journal: when the next pull is due (CLOCK_MONOTONIC ms); UINT64_MAX for the bus. */
uint64_t intake_pull_due(const struct fwd_intake *in);
/* Take up to max waiting messages into b (the journal: one pull of up to its batch).
 * Returns how many were taken, or -errno when the bus socket failed. A hole in the stamps
 * is counted in st and becomes a FWD_LOSS_TAG record in b. */
int intake_drain(struct fwd_intake *in, struct fwd_batcher *b, struct fwd_stats *st, uint64_t now_ms,
		 unsigned int max);
/* Accepts NULL. */
void intake_close(struct fwd_intake *in);

#endif

/* intake.h - the bus side: subscribe, decode, tag and time each event, hand it to the
 * batcher. */
#ifndef FWD_INTAKE_H
#define FWD_INTAKE_H

#include <stdint.h>

#include "batch.h"
#include "stats.h"

struct fwd_intake;

/* Subscribe to url with a receive buffer of rcvbuf bytes; tag_tmpl is borrowed (see
 * tag.h). nanomsg connects lazily, so this succeeds while the agent is down. NULL + errno. */
struct fwd_intake *intake_open(const char *url, long rcvbuf, const char *tag_tmpl);
/* An fd that polls readable while bus messages wait. */
int intake_fd(const struct fwd_intake *in);
/* Take up to max waiting messages into b. Returns how many were taken, or -errno when the
 * bus socket failed. */
int intake_drain(struct fwd_intake *in, struct fwd_batcher *b, struct fwd_stats *st, uint64_t now_ms,
		 unsigned int max);
/* Accepts NULL. */
void intake_close(struct fwd_intake *in);

#endif

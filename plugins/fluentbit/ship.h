/* ship.h - delivery: one connection to the peer, batches written from the spool in
 * order, acks read back, timeouts, reconnects with backoff. */
#ifndef FWD_SHIP_H
#define FWD_SHIP_H

#include <poll.h>
#include <stdint.h>

#include "config.h"
#include "spool.h"
#include "stats.h"

struct fwd_ship;

/* cfg, sp and st are borrowed and must outlive the ship. Nothing connects until the first
 * ship_run. NULL + errno (EINVAL: cfg->to does not parse). */
struct fwd_ship *ship_new(const struct fwd_config *cfg, struct fwd_spool *sp, struct fwd_stats *st);
/* Close the connection. Batches in flight stay in the spool. Accepts NULL. */
void ship_free(struct fwd_ship *sh);
/* What to poll for: sets pfd->fd (-1 while disconnected) and pfd->events. */
void ship_poll_events(const struct fwd_ship *sh, struct pollfd *pfd);
/* Do what is due at now_ms: connect, read acks, write batches, expire acks. revents are
 * the poll results for the fd ship_poll_events gave (0 if none). Call it after new batches
 * were queued, too. */
void ship_run(struct fwd_ship *sh, short revents, uint64_t now_ms);
/* When ship_run next has something to do without the fd: a retry, a timeout. */
uint64_t ship_deadline(const struct fwd_ship *sh);

#endif

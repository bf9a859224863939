/* constraints.h - the part of a generate request's "context" JSON that the tables honour.
 *
 * osquery sends {"constraints":[{"name":"pid","list":[{"op":2,"expr":"42"}],
 * "affinity":"BIGINT"}, ...], "colsUsed":[...], ...}. SQLite checks every constraint
 * again on the rows it gets back, so honouring one is only an optimisation: whatever
 * this parser does not understand it ignores, and the answer is a superset.
 */
#ifndef OSQ_CONSTRAINTS_H
#define OSQ_CONSTRAINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* osquery's ConstraintOperator values this parser acts on. */
enum osq_op {
	OSQ_OP_EQUALS = 2,
	OSQ_OP_GT = 4,
	OSQ_OP_LE = 8,
	OSQ_OP_LT = 16,
	OSQ_OP_GE = 32,
};

/* Equality constraints on pid beyond this many are ignored (the pid filter is dropped). */
#define OSQ_MAX_PIDS 32

struct osq_constraints {
	/* pid = X: a row passes when its pid is any of these (several EQUALS on one column
	 * are ANDed by SQLite; taking any of them is the safe superset) */
	size_t npids;
	uint64_t pids[OSQ_MAX_PIDS];
	/* time bounds in seconds, inclusive; INT64_MIN and INT64_MAX when open */
	int64_t time_min, time_max;
};

/* No constraint: every row passes. */
void osq_constraints_init(struct osq_constraints *c);
/* Parse the context JSON (len bytes, need not be NUL-terminated) into c. Returns 0, or
 * -EINVAL for JSON it cannot read; c is then left with no constraint. */
int osq_constraints_parse(const char *json, size_t len, struct osq_constraints *c);
bool osq_constraints_pass(const struct osq_constraints *c, bool has_pid, uint64_t pid, int64_t time);

#endif

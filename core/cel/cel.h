/* cel.h - CEL (Common Expression Language) expressions over vigil's events, as Tetragon's
 * Filter.cel_expression and `tetra getevents --cel-expression` evaluate them.
 *
 * The environment is Tetragon's: one variable per event kind, named as its JSON key
 * (process_exec, process_exit, process_kprobe, process_tracepoint, process_uprobe,
 * process_lsm, process_loader, process_usdt, process_throttle, rate_limit_info, test), typed
 * as Tetragon's protobuf message, with its protobuf field names (snake_case). Expressions are
 * type-checked when compiled, as Tetragon does: an unknown field, a call with arguments of the
 * wrong types (`1 == 1u`, `process_exec.process.pid > 1`: pid is a uint wrapper), or a result
 * that is not bool is refused with the column and the reason. Whatever this subset does not
 * implement is refused at compile time too, never evaluated to false.
 *
 * Evaluation follows Tetragon's: an expression is evaluated only for events of a kind it
 * names; the other kinds' variables are unset messages (every field has its default value);
 * a field absent from the event has its protobuf default (""; 0; false; null for wrappers
 * such as process.pid; an empty list or map; an unset message); an error (null > 1u, a
 * missing map key, an index out of range, an overflow, a limit) makes the expression not
 * pass. && and || absorb errors as CEL does (false && error is false).
 *
 * Every evaluation is bounded (steps, memory, recursion): no expression and no event can
 * make it run long or grow without bound; hitting a bound is an evaluation error.
 */
#ifndef VIGIL_CEL_H
#define VIGIL_CEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"
#include "../encode/encode.h"

/* Why an expression was refused: column is 1-based (0 when it is about the whole text). */
struct vigil_cel_error {
	int column;
	char reason[240];
};

/* A compiled expression. */
struct vigil_cel;

/* Compile (parse and type-check) expr. NULL + errno: EINVAL with err filled (when given) for
 * an expression that is wrong or uses what this subset lacks, ENOMEM. The caller owns the
 * result (vigil_cel__free). */
VIGIL_API struct vigil_cel *vigil_cel__compile(const char *expr, struct vigil_cel_error *err);
/* Accepts NULL. */
VIGIL_API void vigil_cel__free(struct vigil_cel *p);

/* Whether p names the event kind type_key ("process_exec"): Tetragon evaluates an
 * expression only for events of the kinds it names. */
VIGIL_API bool vigil_cel__names_kind(const struct vigil_cel *p, const char *type_key);

/* Evaluate p against m: 1 true, 0 false, -ENOENT when p does not name m's kind (not
 * evaluated), -EINVAL for an evaluation error (the reason: vigil_cel__last_error). Not
 * thread-safe: one thread per compiled expression (its scratch space). */
VIGIL_API int vigil_cel__eval(struct vigil_cel *p, const struct vigil_msg *m);

/* The reason of the last evaluation error ("" when none). Valid until the next eval. */
VIGIL_API const char *vigil_cel__last_error(const struct vigil_cel *p);

/* Evaluations and evaluation errors so far. */
struct vigil_cel_stats {
	uint64_t evals;
	uint64_t errors;
};
VIGIL_API void vigil_cel__stats(const struct vigil_cel *p, struct vigil_cel_stats *out);

#endif

/* sinks.c - where events go: the bus (msgpack), the terminal and the export file (text). */
#include <errno.h>
#include <stdio.h>

#include "agent_internal.h"

static void write_line(struct vigil_agent *a, FILE *f, const struct vigil_buf *line)
{
	if (fwrite(line->data, 1, line->len, f) != line->len || fputc('\n', f) == EOF)
		a->counters.output_errors++;
}

/* The name a rule's `hooks` list selects a policy event by (core/luahost); NULL for others. */
static const char *hook_name(const struct vigil_event *ev)
{
	const struct vigil_hook_info *h = ev->policy.hook;

	switch (ev->type) {
	case VIGIL_EVENT_TRACEPOINT:
		return h ? h->event : NULL;
	case VIGIL_EVENT_KPROBE:
	case VIGIL_EVENT_LSM:
		return h ? h->function_name : NULL;
	case VIGIL_EVENT_UPROBE:
		return h ? h->symbol : NULL;
	default:
		return NULL;
	}
}

/* Tetragon walks to the root; a deeper chain than this is cut (a fork bomb's) */
#define MAX_ANCESTORS 64

/* in with the optional process fields, when asked for: on the copy *extended (the caller's
 * is const), whose ancestors point into anc[MAX_ANCESTORS]. */
static const struct vigil_event *extend(struct vigil_agent *a, const struct vigil_event *in,
					struct vigil_event *extended, const struct vigil_process **anc)
{
	if (!a->opts.ancestors && !a->opts.username_metadata && !a->opts.process_cred && !a->opts.redaction)
		return in;
	*extended = *in;
	extended->nancestors = agent_ancestors(a, in, anc, MAX_ANCESTORS);
	extended->ancestors = extended->nancestors ? anc : NULL;
	extended->binary_properties = a->opts.process_cred;
	if (a->opts.username_metadata) {
		extended->user_name = agent_user_name;
		extended->user_ctx = a;
	}
	if (a->opts.redaction) {
		extended->arguments = agent_redacted_arguments;
		extended->user_ctx = a;
	}
	return extended;
}

void agent_dispatch(struct vigil_agent *a, const struct vigil_event *in)
{
	const struct vigil_process *anc[MAX_ANCESTORS];
	struct vigil_event extended;
	const struct vigil_event *ev = extend(a, in, &extended, anc);
	struct vigil_msg *msg;
	uint64_t seq = 0;
	bool rules, json_line;

	vigil_metrics__count_event(a->metrics, ev);
	if (ev->type == VIGIL_EVENT_EXEC)
		a->counters.events_exec++;
	else if (ev->type == VIGIL_EVENT_EXIT)
		a->counters.events_exit++;
	else if (ev->type == VIGIL_EVENT_ALERT || ev->type == VIGIL_EVENT_RULE_ACTION ||
		 ev->type == VIGIL_EVENT_RULE_STATUS)
		a->counters.events_rules++;
	else if (ev->type != VIGIL_EVENT_POLICY_STATUS)	/* the policy directory's own reports */
		a->counters.events_policy++;

	vigil_buf_reset(&a->msgpack);
	if (vigil_encode_msgpack(ev, &a->msgpack)) {
		a->counters.encode_errors++;
		return;
	}
	/* the JSON line from the bytes just built, before the stamp: nothing is unpacked
	 * (the compact line and the export file read the decoded tree, below) */
	json_line = a->opts.output == VIGIL_OUTPUT_JSON;
	if (json_line) {
		vigil_buf_reset(&a->line);
		json_line = !vigil_json_from_own_msgpack(a->msgpack.data, a->msgpack.len, &a->line);
		if (!json_line)
			a->counters.encode_errors++;
	}
	/* stamped with the next sequence number (subscribers count holes from it); a slow or
	 * absent subscriber costs a counted drop, never a blocked reader */
	if (vigil_pub__publish(a->pub, &a->msgpack, &seq) == -EINVAL) {
		a->counters.encode_errors++;
		return;
	}
	/* the lossless path: a copy for the journal's writer thread, never a wait (a full
	 * queue is counted there as journal_dropped) */
	if (a->journal)
		vigil_journal__append(a->journal, seq, a->msgpack.data, a->msgpack.len);

	/* the Lua rules get a copy of the bus bytes on their own thread: a full queue drops
	 * (counted per rule by the host), a stuck rule never holds the reader up */
	rules = a->luahost && vigil_luahost__wants_hook(a->luahost, ev->type, hook_name(ev));
	if (rules)
		vigil_luahost__post(a->luahost, ev->type, a->msgpack.data, a->msgpack.len);
	if (json_line)
		write_line(a, stdout, &a->line);
	/* the compact line and the export file read the decoded tree: decode only for them.
	 * They render from the bus bytes, so they print what subscribers print */
	if (a->opts.output != VIGIL_OUTPUT_COMPACT && !a->exporter)
		return;
	msg = vigil_msg__decode_own(a->msgpack.data, a->msgpack.len);
	if (!msg) {
		a->counters.encode_errors++;
		return;
	}
	/* export: allow/deny lists, rate limit, field filters, rotation (core/export) */
	if (a->exporter && vigil_exporter__write(a->exporter, msg, ev))
		a->counters.output_errors++;
	if (a->opts.output == VIGIL_OUTPUT_COMPACT) {
		struct vigil_compact_opts copts = {.color = a->opts.color};

		vigil_buf_reset(&a->line);
		if (!vigil_msg__to_compact(msg, &copts, &a->line))
			write_line(a, stdout, &a->line);
	}
	vigil_msg__free(msg);
}

void agent_flush(struct vigil_agent *a)
{
	if (a->opts.output != VIGIL_OUTPUT_NONE)
		fflush(stdout);
	if (a->exporter)
		vigil_exporter__flush(a->exporter);
}

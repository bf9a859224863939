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

/* How long the reader holds what it posted for the rules: up to the rules thread's own
 * tick, which then runs it unwoken. A wake-up by the reader costs it a futex wake, and the
 * rules thread a switch and its watchdog timer's arm and disarm: with a 2 ms hold, while
 * records came, and none once they stopped, an exec storm's trickle (a round every 2 ms, or
 * an exec every few ms on a loaded machine) woke the rules about once an exec. A dense stream
 * wakes them anyway once 64 wait (LH_HELD_MAX). */
#define RULES_HOLD_NS VIGIL_LUAHOST_TICK_NS

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

/* Every count of an event, in one place: the agent's counters, the metrics and the
 * policy's count for `tp list`, through the hook the decoder resolved (an atomic add on
 * the policy the hook belongs to, no lock). */
static void count(struct vigil_agent *a, const struct vigil_event *ev)
{
	vigil_metrics__count_event(a->metrics, ev);
	switch (ev->type) {
	case VIGIL_EVENT_EXEC:
		a->counters.events_exec++;
		break;
	case VIGIL_EVENT_EXIT:
		a->counters.events_exit++;
		break;
	case VIGIL_EVENT_ALERT:
	case VIGIL_EVENT_RULE_ACTION:
	case VIGIL_EVENT_RULE_STATUS:
		a->counters.events_rules++;
		break;
	case VIGIL_EVENT_POLICY_STATUS:		/* the policy directory's own reports */
		break;
	case VIGIL_EVENT_KPROBE:
	case VIGIL_EVENT_TRACEPOINT:
	case VIGIL_EVENT_LSM:
	case VIGIL_EVENT_UPROBE:
	case VIGIL_EVENT_USDT:
		a->counters.events_policy++;
		if (ev->policy.hook && ev->policy.hook->events)
			__atomic_fetch_add(ev->policy.hook->events, 1, __ATOMIC_RELAXED);
		break;
	default:				/* loader, throttle: their own sensors */
		a->counters.events_policy++;
		break;
	}
}

/* The text sinks of the bytes just encoded, before the bus stamps them: the JSON line, the
 * compact line (both into a->line, written once the event is on the bus) and the export
 * file. Nothing is unpacked: the JSON line is rendered from the bytes, and the compact line
 * and the export read them in place through a view, so they print what subscribers print. */
static bool text_sinks(struct vigil_agent *a, const struct vigil_event *ev, size_t body_end)
{
	struct vigil_compact_opts copts = {.color = a->opts.color};
	bool compact = a->opts.output == VIGIL_OUTPUT_COMPACT;
	int err;

	vigil_buf_reset(&a->line);
	if (a->opts.output == VIGIL_OUTPUT_JSON) {
		err = vigil_json_from_own_msgpack(a->msgpack.data, a->msgpack.len, &a->line);
		if (err)
			a->counters.encode_errors++;
		return !err;
	}
	if (!compact && !a->exporter)
		return false;
	if (!a->view)
		a->view = vigil_msg__new_view();
	err = a->view ? vigil_msg__view_own(a->view, a->msgpack.data, a->msgpack.len, body_end) : -ENOMEM;
	if (err) {
		a->counters.encode_errors++;
		return false;
	}
	/* export: allow/deny lists, rate limit, field filters, rotation (core/export) */
	if (a->exporter && vigil_exporter__write(a->exporter, a->view, ev))
		a->counters.output_errors++;
	/* an event tetra would not print (one without its process) prints nothing */
	return compact && !vigil_msg__to_compact(a->view, &copts, &a->line);
}

void agent_dispatch(struct vigil_agent *a, const struct vigil_event *in)
{
	const struct vigil_process *anc[MAX_ANCESTORS];
	struct vigil_event extended;
	const struct vigil_event *ev = extend(a, in, &extended, anc);
	uint64_t seq = 0;
	size_t body_end = 0;
	bool rules, line;
	int err;

	count(a, ev);
	vigil_buf_reset(&a->msgpack);
	if (vigil_encode_msgpack_marked(ev, &a->msgpack, &body_end)) {
		a->counters.encode_errors++;
		return;
	}
	line = text_sinks(a, ev, body_end);
	/* stamped with the next sequence number (subscribers count holes from it); a slow or
	 * absent subscriber costs a counted drop, never a blocked reader. In the reader's round
	 * the bus holds it for agent_flush: a round's events in one send to each subscriber */
	err = a->bus_held ? vigil_pub__publish_held(a->pub, &a->msgpack, &seq) :
			    vigil_pub__publish(a->pub, &a->msgpack, &seq);
	if (err == -EINVAL) {
		a->counters.encode_errors++;
		return;
	}
	/* the lossless path: a copy for the journal's writer thread, never a wait (a full
	 * queue is counted there as journal_dropped) */
	if (a->journal)
		vigil_journal__append(a->journal, seq, a->msgpack.data, a->msgpack.len);

	/* the Lua rules get a copy of the bus bytes on their own thread: a full queue drops
	 * (counted per rule by the host), a stuck rule never holds the reader up; woken once a
	 * round, by agent_flush (the reader's, or the caller's) */
	rules = a->luahost && vigil_luahost__wants_hook(a->luahost, ev->type, hook_name(ev));
	if (rules)
		vigil_luahost__post_held(a->luahost, ev->type, a->msgpack.data, a->msgpack.len);
	if (line)
		write_line(a, stdout, &a->line);
}

void agent_flush(struct vigil_agent *a)
{
	/* what the round published, one send to each subscriber (the serve thread's wake-up
	 * pipe is all that can fail) */
	if (a->bus_held && vigil_pub__flush(a->pub))
		a->counters.output_errors++;
	a->bus_held = false;
	/* the reader lets the rules batch what it posted up to RULES_HOLD_NS (a rule's actions
	 * and alerts come up to 20 ms later, its thread wakes no more than its tick does); any
	 * other caller (a policy's status event) wakes them now */
	if (a->luahost)
		vigil_luahost__wake(a->luahost, a->rules_hold ? RULES_HOLD_NS : 0);
	if (a->opts.output != VIGIL_OUTPUT_NONE)
		fflush(stdout);
	if (a->exporter)
		vigil_exporter__flush(a->exporter);
}

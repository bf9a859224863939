/* environ.c - an exec's environment as it may leave the agent
 * (--enable-process-environment-variables): only the variables --filter-environment-variables
 * names (all when it names none), then each "KEY=VALUE" through --redaction-filters, as
 * Tetragon filters and redacts them, for the exec's binary. */
#include <string.h>

#include "agent_internal.h"
#include "export/export.h"

static bool wanted(const struct vigil_agent_opts *o, const char *var, size_t len)
{
	const char *eq = memchr(var, '=', len);
	size_t klen = eq ? (size_t)(eq - var) : len, i;

	if (!o->nenv_filter)
		return true;
	for (i = 0; i < o->nenv_filter; i++)
		if (strlen(o->env_filter[i]) == klen && !memcmp(o->env_filter[i], var, klen))
			return true;
	return false;
}

void agent_environment(struct vigil_agent *a, struct vigil_event *ev)
{
	const char *s, *end, *out;
	size_t l;

	if (!ev->env || ev->type != VIGIL_EVENT_EXEC || !ev->process)
		return;
	if (!a->opts.process_env) {
		ev->env = NULL;
		ev->env_len = 0;
		return;
	}
	vigil_buf_reset(&a->environ);
	end = ev->env + ev->env_len;
	for (s = ev->env; s < end; s += l + 1) {
		l = strlen(s);
		if (!wanted(&a->opts, s, l))
			continue;
		out = a->opts.redaction ? vigil_redaction__apply(a->opts.redaction, ev->process->binary, s,
								&a->environ_scratch) : s;
		if (vigil_buf_append(&a->environ, out, strlen(out) + 1))
			break;
	}
	ev->env = a->environ.len ? a->environ.data : NULL;
	ev->env_len = a->environ.len;
}

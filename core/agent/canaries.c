/* canaries.c - a policy event whose selector has GetUrl or DnsLookup hands the request to
 * the canary worker (core/canary), which rate-limits it per policy. */
#include "agent_internal.h"

void agent_canaries(struct vigil_agent *a, const struct vigil_event *ev)
{
	const struct vigil_hook_info *h;
	size_t i;

	if (ev->type != VIGIL_EVENT_KPROBE && ev->type != VIGIL_EVENT_TRACEPOINT && ev->type != VIGIL_EVENT_LSM &&
	    ev->type != VIGIL_EVENT_UPROBE)
		return;
	h = ev->policy.hook;
	if (!a->canary || !h || !h->ncanaries)
		return;
	for (i = 0; i < h->ncanaries; i++)
		if (h->canaries[i].selector == ev->policy.selector)
			vigil_canary__submit(a->canary, h->policy_name, (enum vigil_canary_kind)h->canaries[i].kind,
					     h->canaries[i].target);
}

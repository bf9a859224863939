/* canary.c - the GetUrl / DnsLookup counters of core/canary as one family, labelled by kind
 * and by what became of each request, so a rate-limited flood shows next to what was sent. */
#include "canary/canary.h"
#include "metrics_internal.h"

void metrics_collect_canary(struct vigil_metrics *m, struct prom_out *o)
{
	static const char *const kinds[] = {[VIGIL_CANARY_URL] = "url", [VIGIL_CANARY_DNS] = "dns"};
	static const char *const name = "vigil_canary_requests_total";
	struct vigil_canary_stats s = {0};
	size_t k;

	prom_family(o, name, "counter",
		    "GetUrl (url) and DnsLookup (dns) actions: requested by a matching selector, then sent "
		    "(answered), failed, or not made (rate_limited, queue_full).");
	if (!m->src.canary)
		return;
	vigil_canary__stats(m->src.canary, &s);
	for (k = 0; k < VIGIL_ARRAY_SIZE(kinds); k++) {
		const struct vigil_canary_kind_stats *ks = &s.kind[k];
		const struct {
			const char *result;
			uint64_t v;
		} rows[] = {
			{"requested", ks->requested}, {"sent", ks->sent}, {"failed", ks->failed},
			{"rate_limited", ks->rate_limited}, {"queue_full", ks->queue_full},
		};
		size_t r;

		for (r = 0; r < VIGIL_ARRAY_SIZE(rows); r++)
			prom_sample_u64(o, name, (const char *const[]){"kind", kinds[k], "result", rows[r].result}, 2,
					rows[r].v);
	}
}

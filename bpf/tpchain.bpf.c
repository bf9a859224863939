/* tpchain.bpf.c - a tracepoint's one probe for its raw (tp_btf) hooks: count the firing,
 * then run the hooks of the chain in turn (bpf/tpchain.h). Attached to its tracepoint by
 * core/sensors/tpchain.c while the chain holds a hook. */
#include "vigil_bpf.h"
#include "lib/tpchain_maps.h"

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf")
int tp_btf_chain(__u64 *ctx)
{
	__u32 zero = 0;
	__u64 *run = bpf_map_lookup_elem(&vg_tp_run, &zero);

	if (run)
		(*run)++;	/* per CPU, and a tracepoint's probes run with preemption off */
	tp_chain_from(ctx, 0);
	return 0;
}

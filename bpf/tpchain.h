/* tpchain.h - one program per tracepoint for its raw (tp_btf) hooks, both sides.
 *
 * Each program attached to a tracepoint is a probe of its own: the kernel calls them one
 * after another, each with its own entry, recursion guard and (bpf_stats) clock reads, and
 * each hook reads again what the one before it read. The shipped policies put five hooks on
 * sched_process_exec. So the hooks of one tracepoint share one chain instead: a head program
 * (bpf/tpchain.bpf.c) is the tracepoint's one probe and tail-calls slot 0 of the chain's
 * program array; each hook, once done, tail-calls the next filled slot (bpf/generic.bpf.c).
 * Slot k holds the hook that joined k-th (a hook's slot is frozen in its read-only config);
 * vg_tp_end says where the chain ends. The hooks of one chain also share one scratch, and a
 * hook whose arguments are declared as the one before it's takes that hook's capture of the
 * same firing instead of reading them again (cfg.capture_sig). Kept by
 * core/sensors/tpchain.c; a hook that is pinned (--keep-enforcing) attaches alone.
 */
#ifndef VIGIL_BPF_TPCHAIN_H
#define VIGIL_BPF_TPCHAIN_H

/* hooks per tracepoint in a chain; more attach alone. 16 + the head stay under the kernel's
 * 33 tail calls (an empty slot's try counts too). */
#define VG_TP_CHAIN 16

#endif

/* prefilter.h - a hook's cheapest checks, run before it reads or records anything.
 *
 * Most calls a hook sees match none of its selectors: an openat policy watching
 * /etc/shadow sees every open of the machine. The full pipeline (bpf/generic.bpf.c) reads
 * the path, fills the record and looks the string up in an LPM trie before it knows that.
 * The prefilter rejects such calls first, from the raw arguments alone:
 *   - a selector's integer filters (Equal, Mask, GT, ...) on plain integer arguments,
 *     evaluated on the value the capture would record;
 *   - then the first bytes of one string argument against the first VG_PF_BYTES bytes of
 *     the selector's Prefix / Equal values on it (a string that starts with a value starts
 *     with its first bytes).
 * A selector passes when all of its checks pass; the call goes on to the full pipeline
 * when one selector passes. Every check is implied by the filter it comes from, so the
 * prefilter never rejects a call some selector would match: it only answers "certainly
 * not" early. Filters it cannot judge this way (negated strings, lists that change at run
 * time, paths, addresses, processes) are left to the pipeline, and a selector without
 * any check turns the prefilter off for the hook. Compiled by core/sensors/prefilter.c.
 *
 * A hook in the raw_syscalls dispatcher's table does not run it itself: the dispatcher
 * holds every such hook's prefilter as a row (bpf/dispatch.h, core/sensors/
 * dispatch_prefilter.c), evaluates them all on its one copy of the registers, reading a
 * string argument's first bytes once for all of them, and tail-calls only the hooks that
 * passed (bpf/lib/syscall_prefilter.h). A hook whose row could not hold all its checks runs
 * this one as well.
 */
#ifndef VIGIL_BPF_PREFILTER_H
#define VIGIL_BPF_PREFILTER_H

#define VG_PF_BYTES 8		/* first bytes of a string compared: one u64 */
#define VG_PF_VALUES 8		/* string values per selector; more: no string check */

struct vg_pf_selector {
	__u8 nint;			/* integer checks: indexes into the selector's args[] */
	__u8 int_filter[VG_MAX_MATCH_ARGS];
	__u8 nstr;			/* string values compared; 0: no string check */
	__u8 pad;
	__u64 str_word[VG_PF_VALUES];	/* a value's first bytes, as loaded from memory */
	__u64 str_mask[VG_PF_VALUES];	/* the bytes of str_word the value has */
};

struct vg_prefilter {
	__u8 on;			/* every selector has a check */
	__u8 str_slot;			/* the string argument the string checks read */
	__u8 pad[6];
	struct vg_pf_selector sel[VG_MAX_SELECTORS];
};

#endif

/* selectors_test.bpf.c - bpf/lib/selectors.h on the real verifier, driven by
 * tests/unit/test_selectors_bpf.c through BPF_PROG_TEST_RUN.
 *
 * The test compiles a policy with vigil's own compiler, writes the hook's configuration into
 * this object's read-only data (frozen at load, as generic.bpf.c's `cfg` is, so the verifier
 * prunes exactly as it does for a real hook) and the compiled keys into its maps. Each run
 * takes a record, namespaces and capabilities from .bss, evaluates the selectors in the
 * caller's context (raw_tp test runs execute in the calling task) and says which one
 * matched and whether its matchReturnArgs hold. */
#include "vigil_bpf.h"
#include <bpf/bpf_endian.h>
#include "generic.h"
#include "lib/selectors.h"

char LICENSE[] SEC("license") = "GPL";

const volatile struct vg_hook_config test_cfg = {};

/* inputs, written by the test before each run */
struct vg_generic_record input_rec = {};
__u32 input_ns[SCRATCH_NS_SLOTS] = {};
__u64 input_caps[VIGIL_CAPS_SLOTS] = {};

/* outputs: the index of the first selector that matched (VG_MAX_SELECTORS: none) and
 * whether that selector's matchReturnArgs hold for input_rec.ret_value */
__u32 matched = 0;
__u32 returned = 0;

SEC("raw_tp")
int run_selectors(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, zero = 0;
	struct vigil_exec_entry *e = bpf_map_lookup_elem(&vg_execs, &tgid);
	struct generic_scratch *s = bpf_map_lookup_elem(&generic_heap, &zero);
	int i;

	if (!s)
		return 1;
	bpf_probe_read_kernel(&s->rec, sizeof(s->rec), &input_rec);
	for (i = 0; i < SCRATCH_NS_SLOTS; i++)
		s->ns[i] = input_ns[i];
	for (i = 0; i < VIGIL_CAPS_SLOTS; i++)
		s->caps[i] = input_caps[i];
	matched = VG_MAX_SELECTORS;
	returned = 0;
	for (i = 0; i < VG_MAX_SELECTORS; i++) {
		if (i >= test_cfg.nselectors)
			break;
		if (match_selector(&test_cfg, s, &test_cfg.sel[i], task, tgid, e)) {
			matched = i;
			returned = match_return_args(s, &test_cfg.sel[i]);
			break;
		}
	}
	return 0;
}

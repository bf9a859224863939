/* decode_kobj.c - a kernel object argument's summary (struct vg_kobj) into the event. */
#include <string.h>

#include "decode_internal.h"
#include "generic.h"

void decode_kobj(const void *data, struct vigil_kobj_info *out)
{
	const struct vg_kobj *k = data;
	const char *end;

	/* the record may be unaligned for u64 fields: read the fields through a copy */
	struct vg_kobj o;

	memcpy(&o, k, sizeof(o));
	*out = (struct vigil_kobj_info){
		.type = o.type, .insn_cnt = o.insn_cnt, .key_size = o.key_size, .value_size = o.value_size,
		.max_entries = o.max_entries, .level = o.level, .uid = o.uid, .gid = o.gid, .inum = o.inum,
		.sig_ok = o.sig_ok == VG_KOBJ_SIG_UNKNOWN ? -1 : !!o.sig_ok,
		.config = o.config, .probe_offset = o.probe_offset, .taints = o.taints,
	};
	/* the name borrows the record, up to its first NUL */
	out->name = k->name;
	end = memchr(k->name, '\0', sizeof(k->name));
	out->name_len = end ? (size_t)(end - k->name) : sizeof(k->name);
}

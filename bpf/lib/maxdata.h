/* maxdata.h - maxData: an argument's whole buffer (up to VG_MAX_DATA_BYTES), beyond the
 * VG_ARG_STR_MAX bytes its record holds.
 *
 * Capture notes where the buffer is (note_big); once the selectors matched and the record
 * is to be posted, emit_chunks reads the buffer again in VG_CHUNK_MAX pieces, each its own
 * ring buffer record, all before the event's record: user space (core/decode/chunks.c)
 * gathers them and hands the whole buffer to the event. A chunk the ring buffer cannot take
 * is counted (VIGIL_KERR_RINGBUF_FULL) and the event's argument arrives flagged truncated. */
#ifndef VIGIL_MAXDATA_H
#define VIGIL_MAXDATA_H

#include "generic_maps.h"
#include "output.h"

/* A buffer of size bytes at ptr for argument slot: what the record holds is decided by the
 * caller; the chunks will carry min(size, VG_MAX_DATA_BYTES) when that is more. */
static __always_inline void note_big(struct generic_scratch *s, __u32 slot, __u64 ptr, __u64 size, bool user,
				     __u32 inline_max)
{
	__u64 full = size > VG_MAX_DATA_BYTES ? VG_MAX_DATA_BYTES : size;

	s->rec.arg_orig[slot & 7] = size > 0xffffffffULL ? 0xffffffffU : (__u32)size;
	if (size > VG_MAX_DATA_BYTES)
		s->rec.arg_flags[slot & 7] |= VG_ARGF_TRUNCATED;
	if (full <= inline_max)
		return;
	s->rec.arg_full[slot & 7] = (__u32)full;
	s->big_ptr[slot & 7] = ptr;
	s->big_user[slot & 7] = user;
}

static __always_inline void emit_arg_chunks(struct generic_scratch *s, struct vg_chunk_record *c, __u32 slot)
{
	__u32 full = s->rec.arg_full[slot & 7], off;
	int k;

	for (k = 0; k < VG_MAX_CHUNKS; k++) {
		__u64 n;

		off = (__u32)k * VG_CHUNK_MAX;
		if (off >= full)
			break;
		/* 1..VG_CHUNK_MAX in a form the verifier bounds (off < full, so at least 1) */
		n = (((__u64)(full - off) - 1) & (VG_CHUNK_MAX - 1)) + 1;
		if (full - off >= VG_CHUNK_MAX)
			n = VG_CHUNK_MAX;
		c->hdr.op = VIGIL_OP_GENERIC_CHUNK;
		c->hdr.ktime = s->rec.hdr.ktime;
		c->tid = s->rec.tid;
		c->slot = slot;
		c->event_ktime = s->rec.hdr.ktime;
		c->offset = off;
		c->len = (__u32)n;
		if (read_buf(c->data, n, s->big_ptr[slot & 7] + off, s->big_user[slot & 7]))
			break;	/* the rest is missing: user space flags the argument truncated */
		c->hdr.size = offsetof(struct vg_chunk_record, data) + (__u32)n;
		output_record(c, offsetof(struct vg_chunk_record, data) + n);
	}
}

/* The chunk records of every maxData argument of the record about to be posted. */
static __always_inline void emit_chunks(struct generic_scratch *s)
{
	struct vg_chunk_record *c;
	__u32 zero = 0;
	int i;

	for (i = 0; i < VG_MAX_ARGS; i++) {
		if (i >= cfg.nargs)
			break;
		if (!cfg.args[i].max_data || !s->rec.arg_full[i])
			continue;
		c = bpf_map_lookup_elem(&chunk_heap, &zero);
		if (!c)
			return;
		emit_arg_chunks(s, c, i);
	}
}

#endif

/* maxdata.h - maxData: an argument's whole buffer (up to VG_MAX_DATA_BYTES), beyond the
 * VG_ARG_STR_MAX bytes its record holds.
 *
 * Capture notes where the buffer is (note_big); once the selectors matched and the record
 * is to be posted, emit_chunks reads the buffer again in VG_CHUNK_MAX pieces, each its own
 * ring buffer record, all before the event's record: user space (core/decode/chunks.c)
 * gathers them and hands the whole buffer to the event. A chunk the ring buffer cannot take
 * is counted (VIGIL_KERR_RINGBUF_FULL) and the event's argument arrives flagged truncated.
 *
 * A char_iovec's buffer is its segments one after the other: its chunks follow the iovec
 * array (big_iov segments), a chunk never crossing a segment's end. On a return probe the
 * scratch does not survive until the exit: the record the entry keeps holds the buffer's
 * address in arg_int (args.h capture_arg), and the exit takes it back (maxdata_at_return). */
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

/* A char_iovec of cnt segments at ptr holding total bytes, used of them in the record. */
static __always_inline void note_big_iovec(struct generic_scratch *s, __u32 slot, __u64 ptr, __u64 cnt, __u64 total,
					   bool user, __u32 used)
{
	s->big_iov[slot & 7] = cnt > VG_IOVEC_MAX ? VG_IOVEC_MAX : (__u8)cnt;
	note_big(s, slot, ptr, total, user, used);
}

/* One chunk of n bytes (1..VG_CHUNK_MAX, any value: bounded here) at src, buffer offset off. */
static __always_inline bool emit_chunk(struct generic_scratch *s, struct vg_chunk_record *c, __u32 slot, __u32 off,
				       __u64 src, __u64 n, bool user)
{
	n = ((n - 1) & (VG_CHUNK_MAX - 1)) + 1;
	c->hdr.op = VIGIL_OP_GENERIC_CHUNK;
	c->hdr.ktime = s->rec.hdr.ktime;
	c->tid = s->rec.tid;
	c->slot = slot;
	c->event_ktime = s->rec.hdr.ktime;
	c->offset = off;
	c->len = (__u32)n;
	if (read_buf(c->data, n, src, user))
		return false;	/* the rest is missing: user space flags the argument truncated */
	c->hdr.size = offsetof(struct vg_chunk_record, data) + (__u32)n;
	output_record(c, offsetof(struct vg_chunk_record, data) + n);
	return true;
}

/* A char_iovec's chunks: walk the segments, cutting each into chunks. One step either reads
 * the next segment or emits a chunk; a bpf_loop callback, so the verifier checks it once
 * (unrolled, the steps took the program past the verifier's limit). */
struct iovec_chunks {
	struct generic_scratch *s;
	struct vg_chunk_record *c;
	__u64 base, len, at;	/* the segment being cut, and how far */
	__u32 slot, full, done, seg;
	bool user;
};

static long iovec_chunk_step(__u64 index, struct iovec_chunks *w)
{
	struct generic_scratch *s = w->s;
	__u32 slot = w->slot & 7;
	__u64 n;

	if (w->done >= w->full)
		return 1;
	if (w->at >= w->len) {	/* this segment is done: the next one */
		struct iovec v = {};

		if (w->seg >= s->big_iov[slot] || w->seg >= VG_IOVEC_MAX)
			return 1;
		if (read_buf((char *)&v, sizeof(v), s->big_ptr[slot] + w->seg * sizeof(v), w->user))
			return 1;
		w->base = (__u64)v.iov_base;
		w->len = v.iov_len;
		w->at = 0;
		w->seg++;
		return 0;
	}
	n = w->len - w->at;
	if (n > w->full - w->done)
		n = w->full - w->done;
	if (n > VG_CHUNK_MAX)
		n = VG_CHUNK_MAX;
	if (!emit_chunk(s, w->c, slot, w->done, w->base + w->at, n, w->user))
		return 1;
	w->at += n;
	w->done += (__u32)n;
	return 0;
}

/* At most VG_MAX_CHUNKS full chunks, plus per segment one short chunk and the step to it. */
static __always_inline void emit_iovec_chunks(struct generic_scratch *s, struct vg_chunk_record *c, __u32 slot)
{
	struct iovec_chunks w = {
		.s = s, .c = c, .slot = slot, .full = s->rec.arg_full[slot & 7], .user = s->big_user[slot & 7],
	};

	bpf_loop(VG_MAX_CHUNKS + 2 * VG_IOVEC_MAX, iovec_chunk_step, &w, 0);
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
		if (cfg.args[i].type == VG_ARG_CHAR_IOVEC)
			emit_iovec_chunks(s, c, i);
		else
			emit_arg_chunks(s, c, i);
	}
}

/* A return probe's exit: where each maxData buffer is, from the record the entry kept (the
 * address in arg_int, which then leaves the record), and for a char_iovec its segment count
 * from its size argument, as the entry read it. */
static __always_inline void maxdata_at_return(struct generic_scratch *s)
{
	int i;

	for (i = 0; i < VG_MAX_ARGS; i++) {
		const volatile struct vg_arg_spec *a = &cfg.args[i];
		__u64 cnt;

		if (i >= cfg.nargs)
			break;
		if (!a->max_data || !s->rec.arg_full[i])
			continue;
		s->big_ptr[i] = s->rec.arg_int[i];
		s->big_user[i] = a->user && !a->tp_inline;
		cnt = a->size_slot ? s->rec.arg_int[(a->size_slot - 1) & 7] : 1;
		s->big_iov[i] = cnt > VG_IOVEC_MAX ? VG_IOVEC_MAX : (__u8)cnt;
		s->rec.arg_int[i] = 0;
	}
}

#endif

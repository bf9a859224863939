/* decode_internal.h - the decoder object and what the decode files share. */
#ifndef VIGIL_DECODE_INTERNAL_H
#define VIGIL_DECODE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"

#define CHUNK_SLOTS 4	/* maxData arguments gathered at once (chunks.c) */

struct chunk_asm {
	uint32_t tid, slot;
	uint64_t ktime;		/* of the event the chunks belong to */
	uint32_t have;		/* bytes gathered, in order */
	bool broken;		/* a chunk was lost */
	char *buf;		/* VG_MAX_DATA_BYTES, made at first use */
};

struct vigil_decoder {
	struct vigil_pcache *cache;
	int64_t boot_to_wall;
	uint32_t host_ns[VIGIL_NS_COUNT];
	struct vigil_decoder_stats stats;
	vigil_hook_resolver resolve;
	void *resolve_ctx;
	vigil_container_resolver container;
	void *container_ctx;
	struct vigil_process *unknown;	/* stands in for processes the cache does not know */
	struct stack_symbols *stacks;	/* made at the first record with a stack trace */
	int kallsyms_fd;		/* -1: open PROC_ROOT/kallsyms when needed */
	char proc_root[128];
	struct chunk_asm chunks[CHUNK_SLOTS];
	unsigned int next_chunk;
	char function_name[64];		/* the event's, for hooks on every syscall (until the next record) */
	char ima_hash[16 + 2 * 64];	/* "sha256:<hex>" (until the next record): bpf/generic.h VG_IMA_DIGEST_MAX */
	struct build_id_cache *build_ids;	/* loader records: made at the first one */
};

/* Count a malformed record; returns -EBADMSG. */
int decode_bad(struct vigil_decoder *d);
/* The cached parent of p, or NULL; when p names a parent the cache lacks, p is flagged
 * noParent and the event counted as degraded (parent_unknown). */
struct vigil_process *decode_parent(struct vigil_decoder *d, struct vigil_process *p);
/* The decoder's stand-in for a process the cache does not know, naming only what the
 * record carries (flag unknown); counted as degraded (process_unknown). Valid until the
 * next record. */
struct vigil_process *decode_stand_in(struct vigil_decoder *d, uint32_t pid, uint32_t tid, uint64_t ktime);

/* A loader record (bpf/loader.h). Same contract as vigil_decoder__record. */
int decode_loader(struct vigil_decoder *d, const void *data, size_t size, struct vigil_event *ev);

/* A policy hook record (bpf/generic.h). Same contract as vigil_decoder__record. */
int decode_generic(struct vigil_decoder *d, const void *data, size_t size, struct vigil_event *ev);

/* A maxData chunk record (chunks.c): 0 (gathered, or ignored when its start was lost), or
 * the decode_bad / -ENOMEM verdict. */
int decode_chunk(struct vigil_decoder *d, const void *data, size_t size);
/* The gathered bytes of argument slot of the event (tid, ktime), when all full of them
 * arrived, else NULL. Valid until the next record. */
const char *decode_chunks_take(struct vigil_decoder *d, uint32_t tid, uint64_t ktime, uint32_t slot, uint32_t full);
void decode_chunks_free(struct vigil_decoder *d);

/* A captured struct vg_kobj (bpf/generic_kobj.h, at least its size at data) into out; the
 * name borrows the record. */
void decode_kobj(const void *data, struct vigil_kobj_info *out);

#endif

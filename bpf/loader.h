/* loader.h - the loader sensor's record (spec.loader: true): an executable file mapped
 * into a process, the binary at exec or a library mapped executable. Written by
 * bpf/loader.bpf.c, decoded by core/decode/decode_loader.c. */
#ifndef VIGIL_BPF_LOADER_H
#define VIGIL_BPF_LOADER_H

#include "process.h"

enum vigil_loader_flag {
	VIGIL_LOADER_TRUNCATED = 1u << 0,	/* the path lost its leading components */
	VIGIL_LOADER_ERROR = 1u << 1,		/* a read failed: what was read is kept */
	VIGIL_LOADER_EXEC = 1u << 2,		/* the binary of an exec, not an mmap */
};

struct vigil_loader_record {
	struct vigil_msg_hdr hdr;	/* op VIGIL_OP_LOADER; size = offsetof(path) + path_len + 1 */
	__u32 pid;
	__u32 tid;
	__u64 proc_ktime;		/* the process's key, as in vg_execs */
	__u64 ino;			/* the file's identity: the decoder caches build ids by it */
	__u32 dev;
	__u16 path_len;			/* without the NUL */
	__u16 flags;			/* enum vigil_loader_flag */
	char path[VIGIL_PATH_MAX];
};

#endif

/* records.h - kernel records (bpf/process.h) as the BPF side builds them, for the unit
 * tests that feed the decoder or the agent's record path. */
#ifndef VIGIL_TEST_RECORDS_H
#define VIGIL_TEST_RECORDS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "process.h"

/* An exec record of `binary` run in `cwd` with NUL-separated `args` (argv[0] included). */
static inline size_t make_exec(struct vigil_exec_record *r, uint32_t pid, uint64_t ktime, const char *binary,
				 const char *cwd, const char *args, size_t args_len, uint32_t kflags)
{
	size_t off = 0;

	memset(r, 0, sizeof(*r));
	r->hdr.op = VIGIL_OP_EXEC;
	r->hdr.ktime = ktime;
	r->proc_ktime = ktime;
	r->pid = r->tid = pid;
	r->ppid = 1;
	r->pktime = 10;
	r->flags = kflags;
	r->auid = 1000;
	r->creds.uid = 1000;
	r->cap_effective = 1ULL << 21;
	r->binary_len = (uint16_t)strlen(binary);
	memcpy(r->data, binary, r->binary_len);
	off += r->binary_len;
	r->cwd_len = (uint16_t)strlen(cwd);
	memcpy(r->data + off, cwd, r->cwd_len);
	off += r->cwd_len;
	r->args_len = (uint16_t)args_len;
	memcpy(r->data + off, args, args_len);
	off += args_len;
	r->hdr.size = (uint32_t)(offsetof(struct vigil_exec_record, data) + off);
	return r->hdr.size;
}

#endif

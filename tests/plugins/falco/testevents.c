/* testevents.c - build the events testevents.h describes. */
#include <errno.h>
#include <msgpack.h>
#include <stdio.h>
#include <string.h>

#include "encode/encode.h"
#include "events/events.h"
#include "testevents.h"

/* ids: storage for the process's exec_id and parent_exec_id */
static void fill(struct vigil_process *p, char ids[2][VIGIL_EXEC_ID_MAX], uint32_t pid, const char *binary,
		 const char *args, const char *cwd)
{
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->tid = pid;
	p->ktime = 1000000ULL * pid;
	snprintf(ids[0], VIGIL_EXEC_ID_MAX, "ZmFsY28tdGVzdDo%u", pid);
	snprintf(ids[1], VIGIL_EXEC_ID_MAX, "ZmFsY28tdGVzdDo%u", pid + 1000);
	p->exec_id = ids[0];
	p->parent_exec_id = ids[1];
	p->binary = (char *)binary;
	p->arguments = (char *)args;
	p->cwd = (char *)cwd;
	p->container_id = (char *)"";
	p->flags = VIGIL_PROC_EXECVE | VIGIL_PROC_CLONE;
	p->start_time = TEV_START_NS;
	p->auid = 4294967295u;
	p->creds = (struct vigil_creds){ 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000 };
	p->refcnt = 1;
}

static int encode(struct vigil_buf *out, enum vigil_event_type type, uint32_t pid, const char *binary,
		  const char *args, uint32_t status, int signal)
{
	struct vigil_process child, parent;
	char ids[2][2][VIGIL_EXEC_ID_MAX];
	struct vigil_event ev = { .type = type, .time = TEV_TIME_NS, .node_name = TEV_NODE };

	fill(&child, ids[0], pid, binary, args, "/tmp");
	fill(&parent, ids[1], pid + 1000, "/usr/bin/bash", "", "/root");
	ev.process = &child;
	ev.parent = &parent;
	ev.exit.status = status;
	ev.exit.signal = signal;
	return vigil_encode_msgpack(&ev, out);
}

int tev_exec(struct vigil_buf *out, uint32_t pid, const char *binary, const char *args)
{
	return encode(out, VIGIL_EVENT_EXEC, pid, binary, args, 0, 0);
}

int tev_exit(struct vigil_buf *out, uint32_t pid, const char *binary, uint32_t status, int signal)
{
	return encode(out, VIGIL_EVENT_EXIT, pid, binary, "", status, signal);
}

/* ---- hand-packed events ---- */

static int write_buf(void *data, const char *buf, size_t len)
{
	return vigil_buf_append(data, buf, len);
}

static void str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str(pk, strlen(s));
	msgpack_pack_str_body(pk, s, strlen(s));
}

static void process(msgpack_packer *pk, const char *key, uint32_t pid, const char *binary)
{
	char exec_id[64];

	snprintf(exec_id, sizeof(exec_id), "ZmFsY28tdGVzdDo%u", pid);
	str(pk, key);
	msgpack_pack_map(pk, 5);
	str(pk, "exec_id");
	str(pk, exec_id);
	str(pk, "pid");
	msgpack_pack_uint32(pk, pid);
	str(pk, "uid");
	msgpack_pack_uint32(pk, 0);
	str(pk, "binary");
	str(pk, binary);
	str(pk, "arguments");
	str(pk, "-x");
}

/* The bytes appended since start must decode: vigil_buf_append leaves the buffer as it was
 * on failure, so a short event means we ran out of memory. */
static int check(struct vigil_buf *out, size_t start)
{
	struct vigil_msg *m = vigil_msg__decode(out->data + start, out->len - start);
	int err = m ? 0 : -ENOMEM;

	vigil_msg__free(m);
	return err;
}

static void tail(msgpack_packer *pk)
{
	str(pk, "node_name");
	str(pk, TEV_NODE);
	str(pk, "time");
	str(pk, TEV_TIME);
}

int tev_kprobe(struct vigil_buf *out, uint32_t pid, const char *binary, const char *path, const char *daddr,
	       uint32_t dport)
{
	msgpack_packer pk;
	size_t start = out->len;

	msgpack_packer_init(&pk, out, write_buf);
	msgpack_pack_map(&pk, 3);
	str(&pk, "process_kprobe");
	msgpack_pack_map(&pk, 7);
	process(&pk, "process", pid, binary);
	str(&pk, "function_name");
	str(&pk, "security_file_permission");
	str(&pk, "args");
	msgpack_pack_array(&pk, 4);
	msgpack_pack_map(&pk, 1);
	str(&pk, "file_arg");
	msgpack_pack_map(&pk, 2);
	str(&pk, "path");
	str(&pk, path);
	str(&pk, "permission");
	str(&pk, "-rw-r-----");
	msgpack_pack_map(&pk, 1);
	str(&pk, "sock_arg");
	msgpack_pack_map(&pk, 3);
	str(&pk, "family");
	str(&pk, "AF_INET");
	str(&pk, "daddr");
	str(&pk, daddr);
	str(&pk, "dport");
	msgpack_pack_uint32(&pk, dport);
	/* the agent writes the policy's label after the value, as Tetragon does */
	msgpack_pack_map(&pk, 2);
	str(&pk, "int_arg");
	msgpack_pack_int32(&pk, -5);
	str(&pk, "label");
	str(&pk, "mask");
	msgpack_pack_map(&pk, 1);
	str(&pk, "string_arg");
	str(&pk, "hello");
	str(&pk, "action");
	str(&pk, "KPROBE_ACTION_POST");
	str(&pk, "policy_name");
	str(&pk, "sensitive-files");
	str(&pk, "message");
	str(&pk, "sensitive file read");
	str(&pk, "tags");
	msgpack_pack_array(&pk, 2);
	str(&pk, "filesystem");
	str(&pk, "mitre_credential_access");
	tail(&pk);
	return check(out, start);
}

int tev_alert(struct vigil_buf *out, uint32_t pid, const char *rule, const char *priority)
{
	msgpack_packer pk;
	size_t start = out->len;

	msgpack_packer_init(&pk, out, write_buf);
	msgpack_pack_map(&pk, 3);
	str(&pk, "process_alert");
	msgpack_pack_map(&pk, 5);
	process(&pk, "process", pid, "/usr/bin/xmrig");
	str(&pk, "rule");
	str(&pk, rule);
	str(&pk, "priority");
	str(&pk, priority);
	str(&pk, "message");
	str(&pk, "cryptominer started");
	str(&pk, "tags");
	msgpack_pack_array(&pk, 1);
	str(&pk, "cryptomining");
	tail(&pk);
	return check(out, start);
}

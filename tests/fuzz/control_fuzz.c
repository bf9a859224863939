/* control_fuzz.c - libFuzzer target for the agent's control socket (0600, root only, but
 * the CLI and scripts write to it): agent_control (core/agent/control.c) with every
 * command of its table, down through the policy commands into the real sensors table
 * (core/sensors/manager.c: compile, ids, enable, mode switch, kernel lists).
 *
 * An input is one or more msgpack requests back to back; each whole object
 * (vigil_msgpack_scan) is sent as one request, the rest (if any) as a last one, to a
 * fresh agent per input, so "add then enable then list_add then delete" sequences are
 * reachable. The agent is the smallest one that works without root or BPF: a zeroed
 * struct vigil_agent with a real sensors table. What would touch the kernel is wrapped
 * at link time (-Wl,--wrap): loading and attaching a hook (a compiled hook whose target
 * contains "nosuch" fails to load, to cover the unwinding), kernel map updates, vmlinux
 * BTF (none, as on a kernel without it), and the counters and metrics that status packs.
 *
 * Properties besides memory safety: a request that does not parse or names no known
 * command is refused with an error code and no reply; otherwise the reply is exactly one
 * msgpack map with a boolean "ok"; root is never refused (-EACCES), a read-only peer may be.
 */
#include <bpf/btf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_internal.h"
#include "fuzz_quiet.h"
#include "sensors/sensors_internal.h"

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "control_fuzz: property violated: %s\n", what);
		abort();
	}
}

/* ---- the kernel, wrapped ---- */

struct sensor {
	bool attached;
	enum sensor_mech mech;
};

int __wrap_sensor_load(const struct compiled_hook *h, const struct vigil_loader *loader, uint32_t wakeup_batch,
		       struct sensor **out, char *why, size_t why_size)
{
	if (strstr(h->target, "nosuch")) {
		snprintf(why, why_size, "load: ENOENT (fuzz)");
		return -ENOENT;
	}
	*out = calloc(1, sizeof(**out));
	if (*out)
		(*out)->mech = h->mech;
	return *out ? 0 : -ENOMEM;
}

enum sensor_mech __wrap_sensor_mech_used(const struct sensor *s)
{
	check(s != NULL, "mech_used: no sensor");
	return s->mech;
}

const char *__wrap_sensor_alone(const struct sensor *s)
{
	check(s != NULL, "alone: no sensor");
	return NULL;	/* every dispatcher hook in its table */
}

int __wrap_sensor_attach(struct sensor *s, char *why, size_t why_size)
{
	check(s != NULL, "attach: no sensor");
	s->attached = true;
	return 0;
}

void __wrap_sensor_detach(struct sensor *s)
{
	check(s != NULL, "detach: no sensor");
	s->attached = false;
}

int __wrap_sensor_map_fd(const struct sensor *s, uint8_t kind)
{
	check(s != NULL, "map_fd: no sensor");
	return 1000 + kind;
}

int __wrap_sensor_pin(struct sensor *s, const char *dir, const char *name)
{
	check(s != NULL, "pin: no sensor");
	return 0;
}

void __wrap_sensor_keep_pins(struct sensor *s)
{
	check(s != NULL, "keep_pins: no sensor");
}

uint64_t __wrap_sensor_memlock(const struct sensor *s)
{
	check(s != NULL, "memlock: no sensor");
	return 4096;	/* a fake sensor has no BPF object to read it from */
}

void __wrap_sensor_free(struct sensor *s)
{
	free(s);
}

int __wrap_bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags)
{
	return 0;
}

int __wrap_bpf_map_delete_elem(int fd, const void *key)
{
	return 0;
}

struct btf *__wrap_btf__load_vmlinux_btf(void)
{
	errno = ENOENT;
	return NULL;
}

int __wrap_vigil_loader__counters(const struct vigil_loader *l, struct vigil_kernel_counters *out)
{
	memset(out, 0, sizeof(*out));
	return 0;
}

uint64_t __wrap_vigil_loader__execs_count(const struct vigil_loader *l)
{
	return 0;
}

uint64_t __wrap_vigil_ctl_server__refused(const struct vigil_ctl_server *s)
{
	return 0;
}

const char *__wrap_vigil_loader__mechanism(const struct vigil_loader *l)
{
	return "tp_btf";
}

void __wrap_vigil_exporter__stats(const struct vigil_exporter *x, struct vigil_exporter_stats *out)
{
	memset(out, 0, sizeof(*out));
}

uint64_t __wrap_vigil_pub__sent(const struct vigil_pub *p)
{
	return 0;
}

uint64_t __wrap_vigil_pub__dropped(const struct vigil_pub *p)
{
	return 0;
}

uint64_t __wrap_vigil_pub__last_seq(const struct vigil_pub *p)
{
	return 0;
}

uint64_t __wrap_vigil_pub__incarnation(const struct vigil_pub *p)
{
	return 1;
}

size_t __wrap_vigil_pub__peers(const struct vigil_pub *p, struct vigil_pub_peer *out, size_t max)
{
	return 0;
}

int __wrap_vigil_metrics__pack(struct vigil_metrics *m, msgpack_packer *pk)
{
	return msgpack_pack_map(pk, 0);
}

int __wrap_vigil_metrics__render(struct vigil_metrics *m, struct vigil_buf *out)
{
	return vigil_buf_puts(out, "# fuzz\n");
}

/* The sinks: the agent here has none (no bus, no export). What a command reports as an
 * event (an operator's list change) must still encode, and read back as JSON. */
void __wrap_agent_dispatch(struct vigil_agent *a, const struct vigil_event *ev)
{
	struct vigil_buf wire = { 0 }, json = { 0 };
	struct vigil_msg *m;

	if (vigil_encode_msgpack(ev, &wire))
		abort();
	m = vigil_msg__decode(wire.data, wire.len);
	if (!m || vigil_msg__to_json(m, &json))
		abort();
	vigil_msg__free(m);
	vigil_buf_free(&json);
	vigil_buf_free(&wire);
}

/* ---- the harness ---- */

static struct vigil_probe_report probe;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	vigil_set_print(fuzz_quiet);
	/* this project's machines: no kprobes, no trampolines */
	probe.mech[VIGIL_MECH_TP_BTF].ok = probe.mech[VIGIL_MECH_RAW_TP].ok = true;
	probe.mech[VIGIL_MECH_TRACEPOINT].ok = probe.mech[VIGIL_MECH_CGROUP_SOCK_ADDR].ok = true;
	probe.mech[VIGIL_MECH_RINGBUF].ok = probe.mech[VIGIL_MECH_SEND_SIGNAL].ok = true;
	snprintf(probe.mech[VIGIL_MECH_KPROBE].reason, sizeof(probe.mech[0].reason), "attach: ENOENT");
	return 0;
}

/* One request from a peer with the given access; checks the reply's shape. */
static void request(struct vigil_agent *a, enum vigil_ctl_access access, const uint8_t *req, size_t len)
{
	const struct vigil_ctl_peer peer = {.access = access, .local = true, .uid = 0, .gid = 0, .pid = 1,
					    .events = access == VIGIL_CTL_ALL};
	struct vigil_buf reply = {0};
	msgpack_unpacked up;
	size_t off = 0;
	const msgpack_object *ok;
	int err = agent_control(&peer, req, len, &reply, a);

	if (err && err != -EACCES) {
		check(err == -EBADMSG || err == -EOPNOTSUPP || err == -ENOMEM, "unexpected error");
		check(reply.len == 0, "an error with a reply");
	} else {
		/* a refusal (read-only peer, a command that changes something) answers too */
		check(err == 0 || access != VIGIL_CTL_ALL, "root refused");
		msgpack_unpacked_init(&up);
		check(msgpack_unpack_next(&up, reply.data, reply.len, &off) == MSGPACK_UNPACK_SUCCESS && off == reply.len,
		      "reply: not one msgpack object");
		check(up.data.type == MSGPACK_OBJECT_MAP, "reply: not a map");
		ok = vigil_msgpack_get(&up.data, "ok");
		check(ok && ok->type == MSGPACK_OBJECT_BOOLEAN, "reply: no boolean ok");
		msgpack_unpacked_destroy(&up);
	}
	vigil_buf_free(&reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t host_ns[VIGIL_NS_COUNT] = {[VIGIL_NS_PID] = 4026531836u, [VIGIL_NS_USER] = 4026531837u};
	struct vigil_sensors_opts so = {.sz = sizeof(so), .probe = &probe, .host_ns = host_ns};
	struct vigil_agent *a = calloc(1, sizeof(*a));
	enum vigil_ctl_access access;
	size_t used = 0, start;
	int n = 0;

	check(a != NULL, "out of memory");
	a->probe = probe;
	snprintf(a->node_name, sizeof(a->node_name), "fuzz");
	pthread_mutex_init(&a->snap_lock, NULL);
	pthread_mutex_init(&a->pipe_lock, NULL);
	pthread_mutex_init(&a->lists_lock, NULL);
	pthread_mutex_init(&a->scopes_lock, NULL);
	a->sensors = vigil_sensors__new(&so);
	check(a->sensors != NULL, "sensors: cannot create");

	/* the requests, one whole msgpack object each, then what is left; at most 16. An input
	 * whose last byte is odd comes from a read-only peer (a control group member) */
	access = size && (data[size - 1] & 1) ? VIGIL_CTL_READ : VIGIL_CTL_ALL;
	for (start = 0; start < size && n < 16; start += used, n++) {
		if (vigil_msgpack_scan(data + start, size - start, &used)) {
			request(a, access, data + start, size - start);
			break;
		}
		request(a, access, data + start, used);
	}
	if (!size)
		request(a, access, data, 0);

	agent_lists_free(a);
	vigil_sensors__free(a->sensors);
	pthread_mutex_destroy(&a->lists_lock);
	pthread_mutex_destroy(&a->scopes_lock);
	pthread_mutex_destroy(&a->pipe_lock);
	pthread_mutex_destroy(&a->snap_lock);
	free(a);
	return 0;
}

/* introspect.c - the control commands behind tetra's debugging commands: the agent's BPF
 * maps (tetra debug maps), its policy domains (tp domains), the policy scopes in vg_scopes
 * (tetra policyfilter dump) and its log level (tetra loglevel get/set); the export file's
 * rotation is eventlog.c's. All read-only but loglevel_set, which control.c keeps root's. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent_internal.h"
#include "export/export.h"
#include "process.h"

/* ---- maps ---- */

/* memlock of an fd, as the kernel accounts it ("memlock:" in its fdinfo); 0 when unknown */
static uint64_t fd_memlock(int fd)
{
	char path[64], line[128];
	uint64_t v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %" SCNu64, &v) == 1)
			break;
	fclose(f);
	return v;
}

/* In-use entries: keys walked for hash-like maps (as Tetragon's map_entries collector does),
 * max_entries for arrays (every slot exists), 0 for maps without keys (ring buffer). The walk
 * stops at max_entries: a map being changed meanwhile cannot keep it going. */
static uint64_t map_entries(int fd, const struct bpf_map_info *info)
{
	char key[512], next[512];
	uint64_t n = 0;
	void *prev = NULL;

	switch (info->type) {
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_PROG_ARRAY:
	case BPF_MAP_TYPE_ARRAY_OF_MAPS:
		return info->max_entries;
	case BPF_MAP_TYPE_RINGBUF:
	case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
		return 0;
	default:
		break;
	}
	if (info->key_size > sizeof(key))
		return 0;
	while (n < info->max_entries && !bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, info->key_size);
		prev = key;
		n++;
	}
	return n;
}

struct seen_ids {
	uint32_t *v;
	size_t n;
};

static bool seen(struct seen_ids *s, uint32_t id)
{
	uint32_t *grown;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i] == id)
			return true;
	grown = realloc(s->v, (s->n + 1) * sizeof(*grown));
	if (grown) {
		s->v = grown;
		s->v[s->n++] = id;
	}
	return false;
}

static void pack_map(struct ctl_list *l, int fd, const struct bpf_map_info *info)
{
	const char *type = libbpf_bpf_map_type_str(info->type);
	msgpack_packer *pk = &l->pk;

	l->n++;
	msgpack_pack_map(pk, 8);
	ctl_pack_str(pk, "id");
	msgpack_pack_uint32(pk, info->id);
	ctl_pack_str(pk, "name");
	ctl_pack_str(pk, info->name);
	ctl_pack_str(pk, "type");
	ctl_pack_str(pk, type ? type : "unknown");
	ctl_pack_str(pk, "key_size");
	msgpack_pack_uint32(pk, info->key_size);
	ctl_pack_str(pk, "value_size");
	msgpack_pack_uint32(pk, info->value_size);
	ctl_pack_str(pk, "max_entries");
	msgpack_pack_uint32(pk, info->max_entries);
	ctl_pack_str(pk, "entries");
	msgpack_pack_uint64(pk, map_entries(fd, info));
	ctl_pack_str(pk, "memlock");
	msgpack_pack_uint64(pk, fd_memlock(fd));
}

/* {"cmd": "maps"} -> {"ok", "maps": [{id, name, type, key_size, value_size, max_entries,
 * entries, memlock}]}: every BPF map this agent holds an fd of, once each. */
int agent_maps(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk)
{
	struct seen_ids ids = {0};
	struct dirent *d;
	struct ctl_list l;
	DIR *dir = opendir("/proc/self/fd");
	int fd;

	(void)a;
	(void)req;
	if (!dir)
		return -errno;
	ctl_list_init(&l);
	while ((d = readdir(dir))) {
		struct bpf_map_info info = {0};
		uint32_t len = sizeof(info);
		char link[64], target[32];
		ssize_t n;
		char *end;
		long v = strtol(d->d_name, &end, 10);

		if (*end || v < 0 || v == dirfd(dir))
			continue;
		fd = (int)v;
		/* only maps: the info call would answer for a program or a link too */
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, "anon_inode:bpf-map") || bpf_obj_get_info_by_fd(fd, &info, &len) ||
		    seen(&ids, info.id))
			continue;
		pack_map(&l, fd, &info);
	}
	closedir(dir);
	free(ids.v);
	msgpack_pack_map(pk, 2);
	ctl_pack_str(pk, "ok");
	msgpack_pack_true(pk);
	ctl_pack_str(pk, "maps");
	ctl_list_flush(&l, pk);
	return 0;
}

/* ---- domains ---- */

/* Where a policy came from: "file" for --tracing-policy and --tracing-policy-dir (they
 * change with their files), "grpc" for the control socket's (tetra's gRPC domain). */
static const char *domain_of(const struct vigil_agent *a, const char *file)
{
	size_t i, n = a->opts.policy_dir ? strlen(a->opts.policy_dir) : 0;

	if (!file)
		return "grpc";
	for (i = 0; i < a->opts.npolicy_files; i++)
		if (!strcmp(a->opts.policy_files[i], file))
			return "file";
	if (n && !strncmp(file, a->opts.policy_dir, n) && file[n] == '/')
		return "file";
	return "grpc";
}

struct domain_walk {
	const struct vigil_agent *a;
	const char *domain;
	struct ctl_list names;
};

static void domain_policy(const struct vigil_policy_status *st, void *ctx)
{
	struct domain_walk *w = ctx;

	if (strcmp(domain_of(w->a, st->file), w->domain))
		return;
	w->names.n++;
	ctl_pack_str(&w->names.pk, st->name);
}

/* {"cmd": "domains"} -> {"ok", "domains": [{"name", "policies": [names]}]}: both domains,
 * empty or not. */
int agent_domains(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk)
{
	static const char *const domains[] = {"grpc", "file"};
	size_t i;

	(void)req;
	msgpack_pack_map(pk, 2);
	ctl_pack_str(pk, "ok");
	msgpack_pack_true(pk);
	ctl_pack_str(pk, "domains");
	msgpack_pack_array(pk, VIGIL_ARRAY_SIZE(domains));
	for (i = 0; i < VIGIL_ARRAY_SIZE(domains); i++) {
		struct domain_walk w = {.a = a, .domain = domains[i]};

		ctl_list_init(&w.names);
		if (a->sensors)
			vigil_sensors__list(a->sensors, domain_policy, &w);
		msgpack_pack_map(pk, 2);
		ctl_pack_str(pk, "name");
		ctl_pack_str(pk, domains[i]);
		ctl_pack_str(pk, "policies");
		ctl_list_flush(&w.names, pk);
	}
	return 0;
}

/* ---- policyfilter: vg_scopes ---- */

static void pack_scoped(void *ctx, const struct vigil_policy *p)
{
	struct ctl_list *l = ctx;
	uint32_t id = vigil_policy_scope_id(p);

	if (!id)
		return;
	l->n++;
	msgpack_pack_map(&l->pk, 3);
	ctl_pack_str(&l->pk, "policy");
	ctl_pack_str(&l->pk, p->name);
	ctl_pack_str(&l->pk, "namespace");
	ctl_pack_str(&l->pk, p->namespace_ ? p->namespace_ : "");
	ctl_pack_str(&l->pk, "scope");
	msgpack_pack_uint32(&l->pk, id);
}

/* {"cmd": "policyfilter"} -> {"ok", "policies": [{policy, namespace, scope}], "entries":
 * [{scope, cgroup_id, cgroup}]}: the scoped policies and the cgroups vg_scopes lets each run
 * in (Tetragon's policy filter map, policy id -> cgroup ids). */
int agent_policyfilter(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk)
{
	int fd = a->loader ? vigil_loader__scopes_fd(a->loader) : -1;
	struct vigil_scope_key key, next;
	struct ctl_list pols, entries;
	char path[256];
	bool first = true;

	(void)req;
	ctl_list_init(&pols);
	ctl_list_init(&entries);
	if (a->sensors)
		vigil_sensors__each_policy(a->sensors, pack_scoped, &pols);
	pthread_mutex_lock(&a->scopes_lock);
	while (fd >= 0 && entries.n < 65536 && !bpf_map_get_next_key(fd, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		if (!a->cgroups || vigil_cgroups__path(a->cgroups, key.cgroup_id, path, sizeof(path)))
			path[0] = '\0';
		entries.n++;
		msgpack_pack_map(&entries.pk, 3);
		ctl_pack_str(&entries.pk, "scope");
		msgpack_pack_uint32(&entries.pk, key.scope);
		ctl_pack_str(&entries.pk, "cgroup_id");
		msgpack_pack_uint64(&entries.pk, key.cgroup_id);
		ctl_pack_str(&entries.pk, "cgroup");
		ctl_pack_str(&entries.pk, path);
	}
	pthread_mutex_unlock(&a->scopes_lock);
	msgpack_pack_map(pk, 3);
	ctl_pack_str(pk, "ok");
	msgpack_pack_true(pk);
	ctl_pack_str(pk, "policies");
	ctl_list_flush(&pols, pk);
	ctl_pack_str(pk, "entries");
	ctl_list_flush(&entries, pk);
	return 0;
}

/* ---- log level ---- */

static const char *const level_names[] = {
	[VIGIL_LOG_WARN] = "warning",
	[VIGIL_LOG_INFO] = "info",
	[VIGIL_LOG_DEBUG] = "debug",
};

static void pack_level(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 2);
	ctl_pack_str(pk, "ok");
	msgpack_pack_true(pk);
	ctl_pack_str(pk, "level");
	ctl_pack_str(pk, level_names[vigil_print_level()]);
}

/* {"cmd": "loglevel"} -> {"ok", "level"} */
int agent_loglevel(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk)
{
	(void)a;
	(void)req;
	pack_level(pk);
	return 0;
}

/* {"cmd": "loglevel_set", "level": "debug"|"info"|"warning"} -> {"ok", "level"}: the level
 * now. tetra's spellings are taken where vigil has the level: trace is debug (vigil's most
 * verbose), warn is warning; error, fatal and panic are refused, since every message vigil
 * logs is a warning or more verbose. */
int agent_loglevel_set(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk)
{
	static const struct {
		const char *name;
		enum vigil_log_level level;
	} names[] = {{"trace", VIGIL_LOG_DEBUG}, {"debug", VIGIL_LOG_DEBUG}, {"info", VIGIL_LOG_INFO},
		     {"warning", VIGIL_LOG_WARN}, {"warn", VIGIL_LOG_WARN}};
	char level[16];
	size_t i;

	(void)a;
	if (ctl_get_str(req, "level", level, sizeof(level))) {
		ctl_pack_error(pk, "loglevel_set: \"level\" must be a string: trace, debug, info or warning");
		return 0;
	}
	for (i = 0; i < VIGIL_ARRAY_SIZE(names); i++)
		if (!strcmp(level, names[i].name))
			break;
	if (i == VIGIL_ARRAY_SIZE(names)) {
		ctl_pack_error(pk, !strcmp(level, "error") || !strcmp(level, "fatal") || !strcmp(level, "panic")
				   ? "loglevel_set: vigil has no level below warning (it logs warnings and more verbose "
				     "messages only): use warning"
				   : "loglevel_set: unknown level: use trace, debug, info or warning");
		return 0;
	}
	vigil_print_set_level(names[i].level);
	pr_warn("log level set to %s over the control socket", level_names[names[i].level]);
	pack_level(pk);
	return 0;
}

/* introspect.c - tetra's debugging commands with vigil in its place: info, loglevel,
 * debug maps, tracingpolicy domains, policyfilter, cri and cgtracker. Each asks the agent
 * over the control socket (read-only commands but `loglevel set`, which is root's), except
 * cgtracker and cri cgroup_path, which read the cgroup v2 tree as the agent's resolver does
 * (core/containers). Output shapes follow tetra's where it has one. */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <jansson.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bus/bus.h"
#include "cli.h"
#include "containers/containers.h"
#include "encode/encode.h"

/* Options every command here takes: -o, -n, --server-address (alias --control). */
struct intro_opts {
	const char *control;
	const char *output;
	long lines;
	int first;		/* argv index of the first positional argument */
};

static int parse_opts(const char *cmd, int argc, char **argv, struct intro_opts *o, const char *usage)
{
	static const struct option options[] = {
		{"output", required_argument, NULL, 'o'},
		{"lines", required_argument, NULL, 'n'},
		{"server-address", required_argument, NULL, 'c'},
		{"control", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	o->control = VIGIL_BUS_DEFAULT_CONTROL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:n:c:h", options, NULL)) != -1) {
		switch (c) {
		case 'o': o->output = optarg; break;
		case 'n':
			if (vigil_parse_long(optarg, 0, 1000000, &o->lines))
				return cli_bad_value(cmd, "lines", optarg);
			break;
		case 'c': o->control = optarg; break;
		case 'h': printf("%s", usage); return 0;
		default: fprintf(stderr, "%s", usage); return 2;
		}
	}
	o->first = optind;
	return -1;
}

/* {"cmd": name} sent; 0 with r filled, else the exit code (said why) */
static int ask(const char *cmd, const char *control, const char *name, struct cli_reply *r)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int rc;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str_with_body(&pk, "cmd", 3);
	msgpack_pack_str_with_body(&pk, name, strlen(name));
	rc = cli_request(cmd, control, sb.data, sb.size, 10000, r);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

static void print_json(json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	if (text)
		printf("%s\n", text);
	free(text);
}

/* a msgpack object as JSON (the tree encoder's rendering) */
static json_t *to_json(const msgpack_object *o)
{
	struct vigil_buf b = {0};
	json_t *j = NULL;

	if (o && !vigil_json_from_msgpack(o, &b))
		j = json_loadb(b.data, b.len, JSON_DECODE_ANY, NULL);
	vigil_buf_free(&b);
	return j;
}

static uint64_t get_u64(const msgpack_object *m, const char *key)
{
	const msgpack_object *v = vigil_msgpack_get(m, key);

	return v && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? v->via.u64 : 0;
}

static const char *get_str(const msgpack_object *m, const char *key, char *out, size_t size)
{
	const msgpack_object *v = vigil_msgpack_get(m, key);

	snprintf(out, size, "%.*s", v && v->type == MSGPACK_OBJECT_STR ? (int)v->via.str.size : 0,
		 v && v->type == MSGPACK_OBJECT_STR ? v->via.str.ptr : "");
	return out;
}

/* ---- info ---- */

/* tetra info's keys: its GetInfo decoded into a Go struct and printed with encoding/json
 * (Name, Version, Probes: probe name -> bool, Conf, Build), after vigil's own keys, which such
 * a reader ignores (Go matches keys case-insensitively: Version and version hold the same). */
static void info_tetra_keys(json_t *out, const msgpack_object *status)
{
	const msgpack_object *mechs = vigil_msgpack_get(status, "mechanisms");
	json_t *probes = json_object();
	char name[64];
	uint32_t i;

	for (i = 0; mechs && mechs->type == MSGPACK_OBJECT_ARRAY && i < mechs->via.array.size; i++) {
		const msgpack_object *m = &mechs->via.array.ptr[i], *ok = vigil_msgpack_get(m, "ok");
		bool yes = ok && ok->type == MSGPACK_OBJECT_BOOLEAN && ok->via.boolean;
		const char *alias;

		get_str(m, "name", name, sizeof(name));
		json_object_set_new(probes, name, json_boolean(yes));
		alias = cli_tetra_probe_name(name);
		if (alias)
			json_object_set_new(probes, alias, json_boolean(yes));
	}
	json_object_set_new(out, "Name", json_string("vigil"));
	json_object_set_new(out, "Version", json_string(get_str(status, "version", name, sizeof(name))));
	json_object_set_new(out, "Probes", probes);
	json_object_set_new(out, "Conf", json_object());
	json_object_set_new(out, "Build", json_pack("{s:s, s:s, s:s, s:s}", "GoVersion", "", "Commit", "", "Time", "",
						    "Modified", ""));
}

int cmd_info(int argc, char **argv)
{
	static const char *const keys[] = {"version", "node_name", "kernel", "uptime_s", "process_mechanism",
					   "mechanisms", "cgroup_v2", "container_runtime"};
	struct intro_opts o = {0};
	struct cli_reply r;
	json_t *out;
	size_t i;
	int rc = parse_opts("info", argc, argv, &o,
			    "usage: vigil info [--server-address URL]\n"
			    "  the agent's version, node, kernel, mechanisms and container runtime, as JSON (tetra info)\n");

	if (rc >= 0)
		return rc;
	if (o.first != argc)
		return cli_bad_value("info", "argument", argv[o.first]);
	rc = ask("info", o.control, "status", &r);
	if (!rc) {
		out = json_object();
		for (i = 0; i < VIGIL_ARRAY_SIZE(keys); i++) {
			json_t *v = to_json(vigil_msgpack_get(r.root, keys[i]));

			if (v)
				json_object_set_new(out, keys[i], v);
		}
		info_tetra_keys(out, r.root);
		print_json(out);
		json_decref(out);
	}
	cli_reply_free(&r);
	return rc;
}

/* ---- loglevel ---- */

int cmd_loglevel(int argc, char **argv)
{
	static const char usage[] = "usage: vigil loglevel get | set trace|debug|info|warning [--server-address URL]\n"
				    "  the agent's log level, changed at run time (set: root only)\n";
	struct intro_opts o = {0};
	struct cli_reply r;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char level[16];
	int rc = parse_opts("loglevel", argc, argv, &o, usage);

	if (rc >= 0)
		return rc;
	if (o.first < argc && !strcmp(argv[o.first], "get") && o.first + 1 == argc) {
		rc = ask("loglevel", o.control, "loglevel", &r);
		if (!rc)
			printf("Current log level: %s\n", get_str(r.root, "level", level, sizeof(level)));
		cli_reply_free(&r);
		return rc;
	}
	if (o.first + 2 != argc || strcmp(argv[o.first], "set")) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	msgpack_pack_str_with_body(&pk, "cmd", 3);
	msgpack_pack_str_with_body(&pk, "loglevel_set", 12);
	msgpack_pack_str_with_body(&pk, "level", 5);
	msgpack_pack_str_with_body(&pk, argv[o.first + 1], strlen(argv[o.first + 1]));
	rc = cli_request("loglevel", o.control, sb.data, sb.size, 10000, &r);
	msgpack_sbuffer_destroy(&sb);
	if (!rc)
		printf("Log level set to: %s\n", get_str(r.root, "level", level, sizeof(level)));
	cli_reply_free(&r);
	return rc;
}

/* ---- eventlog ---- */

static void print_eventlog(const msgpack_object *root)
{
	const msgpack_object *c = vigil_msgpack_get(root, "compress");
	uint64_t ns = get_u64(root, "rotation_interval_ns");
	char file[512];

	/* tetra prints GetEventLogParamsResponse's fields */
	printf("Current logging parameters: max_size:%llu rotation_interval:\"%llus\" max_backups:%llu "
	       "compress:%s file:\"%s\"\n",
	       (unsigned long long)get_u64(root, "max_size_mb"), (unsigned long long)(ns / 1000000000ULL),
	       (unsigned long long)get_u64(root, "max_backups"),
	       c && c->type == MSGPACK_OBJECT_BOOLEAN && c->via.boolean ? "true" : "false",
	       get_str(root, "file", file, sizeof(file)));
}

/* tetra eventlog set: the values go as given; the agent reads them as vigild's options do. */
static int eventlog_set(int argc, char **argv, const char *usage)
{
	static const struct option options[] = {
		{"max-size", required_argument, NULL, 's'},
		{"max-backups", required_argument, NULL, 'b'},
		{"rotation-interval", required_argument, NULL, 'i'},
		{"server-address", required_argument, NULL, 'c'},
		{"control", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const char *const keys[] = {"max_size", "max_backups", "rotation_interval"};
	const char *control = VIGIL_BUS_DEFAULT_CONTROL, *val[3] = {NULL, NULL, NULL};
	struct cli_reply r;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint32_t n = 1;
	size_t i;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		switch (c) {
		case 's': val[0] = optarg; break;
		case 'b': val[1] = optarg; break;
		case 'i': val[2] = optarg; break;
		case 'c': control = optarg; break;
		case 'h': printf("%s", usage); return 0;
		default: fprintf(stderr, "%s", usage); return 2;
		}
	}
	if (optind != argc || (!val[0] && !val[1] && !val[2])) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	for (i = 0; i < 3; i++)
		n += val[i] != NULL;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, n);
	msgpack_pack_str_with_body(&pk, "cmd", 3);
	msgpack_pack_str_with_body(&pk, "eventlog_set", 12);
	for (i = 0; i < 3; i++) {
		if (!val[i])
			continue;
		msgpack_pack_str_with_body(&pk, keys[i], strlen(keys[i]));
		msgpack_pack_str_with_body(&pk, val[i], strlen(val[i]));
	}
	rc = cli_request("eventlog set", control, sb.data, sb.size, 10000, &r);
	msgpack_sbuffer_destroy(&sb);
	if (!rc)
		print_eventlog(r.root);
	cli_reply_free(&r);
	return rc;
}

int cmd_eventlog(int argc, char **argv)
{
	static const char usage[] =
		"usage: vigil eventlog get [--server-address URL]\n"
		"       vigil eventlog set [--max-size MB] [--max-backups N] [--rotation-interval D] [--server-address URL]\n"
		"  the export file's rotation: its maximum size (MB), rotation interval and backups kept (tetra\n"
		"  eventlog get/set). set (root only) changes it at run time, between two records; values read as\n"
		"  vigild's --export-file-max-size-mb, --export-file-max-backups, --export-file-rotation-interval\n";
	struct intro_opts o = {0};
	struct cli_reply r;
	int rc;

	if (argc > 1 && !strcmp(argv[1], "set"))
		return eventlog_set(argc - 1, argv + 1, usage);
	rc = parse_opts("eventlog", argc, argv, &o, usage);
	if (rc >= 0)
		return rc;
	if (o.first + 1 != argc || strcmp(argv[o.first], "get")) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	rc = ask("eventlog", o.control, "eventlog", &r);
	if (!rc)
		print_eventlog(r.root);
	cli_reply_free(&r);
	return rc;
}

/* ---- debug maps ---- */

struct agg {
	char name[32], type[32];
	uint64_t key, value, max, entries, count, memlock;
};

static int by_memlock(const void *a, const void *b)
{
	const struct agg *x = a, *y = b;

	return x->memlock < y->memlock ? 1 : x->memlock > y->memlock ? -1 : strcmp(x->name, y->name);
}

/* the maps of one reply aggregated by name, as tetra's fourth table; *total their memlock */
static struct agg *aggregate(const msgpack_object *maps, size_t *n, uint64_t *total)
{
	struct agg *v = NULL, *grown, a;
	uint32_t i;
	size_t j;

	*n = 0;
	*total = 0;
	for (i = 0; maps && maps->type == MSGPACK_OBJECT_ARRAY && i < maps->via.array.size; i++) {
		const msgpack_object *m = &maps->via.array.ptr[i];

		memset(&a, 0, sizeof(a));
		get_str(m, "name", a.name, sizeof(a.name));
		get_str(m, "type", a.type, sizeof(a.type));
		a.key = get_u64(m, "key_size");
		a.value = get_u64(m, "value_size");
		a.max = get_u64(m, "max_entries");
		a.entries = get_u64(m, "entries");
		a.memlock = get_u64(m, "memlock");
		a.count = 1;
		*total += a.memlock;
		for (j = 0; j < *n; j++)
			if (!strcmp(v[j].name, a.name) && !strcmp(v[j].type, a.type))
				break;
		if (j < *n) {
			v[j].count++;
			v[j].entries += a.entries;
			v[j].memlock += a.memlock;
			continue;
		}
		grown = realloc(v, (*n + 1) * sizeof(*v));
		if (!grown)
			break;
		v = grown;
		v[(*n)++] = a;
	}
	if (*n)
		qsort(v, *n, sizeof(*v), by_memlock);
	return v;
}

int cli_debug_maps(int argc, char **argv)
{
	static const char usage[] = "usage: vigil debug maps [-o tab|json] [-n LINES] [--server-address URL]\n"
				    "  the agent's BPF maps: total memlock, then by name (entries in use, capacity,\n"
				    "  memlock), the largest first; -n 0 prints every name (tetra debug maps)\n";
	struct intro_opts o = {.output = "tab", .lines = 10};
	struct cli_reply r;
	const msgpack_object *maps;
	struct agg *v = NULL;
	char human[32], pct[16];
	uint64_t total;
	size_t n, i;
	int rc = parse_opts("debug maps", argc, argv, &o, usage);

	if (rc >= 0)
		return rc;
	if (strcmp(o.output, "tab") && strcmp(o.output, "json"))
		return cli_bad_value("debug maps", "output", o.output);
	if (o.first != argc)
		return cli_bad_value("debug maps", "argument", argv[o.first]);
	rc = ask("debug maps", o.control, "maps", &r);
	if (rc)
		goto out;
	maps = vigil_msgpack_get(r.root, "maps");
	v = aggregate(maps, &n, &total);
	if (!strcmp(o.output, "json")) {
		json_t *aggs = json_array(), *doc;

		/* tetra's MapsChecksOutput keys; entries (keys in use) and maps (each map with its
		 * id) are vigil's, which tetra's Go reader ignores */
		for (i = 0; i < n; i++)
			json_array_append_new(aggs, json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:I}", "name",
							      v[i].name, "type", v[i].type, "key_size", (json_int_t)v[i].key,
							      "value_size", (json_int_t)v[i].value, "max_entries",
							      (json_int_t)v[i].max, "count", (json_int_t)v[i].count,
							      "memlock_bytes", (json_int_t)(v[i].memlock / v[i].count),
							      "total_memlock_bytes", (json_int_t)v[i].memlock, "percent_of_total",
							      total ? 100.0 * (double)v[i].memlock / (double)total : 0.0,
							      "entries", (json_int_t)v[i].entries));
		/* maps_stats counts pinned maps: the agent's are held by its fds, none pinned */
		doc = json_pack("{s:{s:I}, s:{}, s:o, s:o}", "total_memlock_bytes", "all_maps", (json_int_t)total,
				"maps_stats", "aggregated_maps", aggs, "maps", to_json(maps));
		print_json(doc);
		json_decref(doc);
		goto out;
	}
	cli_humanize_bytes(total, human, sizeof(human));
	/* tetra's first table is the memlock of every map; the agent's maps are all vigil has */
	printf("%-12s %s\n%-12s %u\n\n", "AllMaps", "Maps", human,
	       maps && maps->type == MSGPACK_OBJECT_ARRAY ? maps->via.array.size : 0);
	/* tetra's columns in tetra's order; vigil's Entries (keys in use) last */
	printf("%-20s %-16s %-8s %-10s %-11s %-6s %-11s %-13s %-15s %s\n", "Name", "Type", "KeySize", "ValueSize",
	       "MaxEntries", "Count", "Memlock", "TotalMemlock", "PercentOfTotal", "Entries");
	for (i = 0; i < n && (!o.lines || (long)i < o.lines); i++) {
		char each[32];

		cli_humanize_bytes(v[i].memlock / v[i].count, each, sizeof(each));
		cli_humanize_bytes(v[i].memlock, human, sizeof(human));
		snprintf(pct, sizeof(pct), "%.1f%%", total ? 100.0 * (double)v[i].memlock / (double)total : 0.0);
		printf("%-20s %-16s %-8llu %-10llu %-11llu %-6llu %-11s %-13s %-15s %llu\n", v[i].name, v[i].type,
		       (unsigned long long)v[i].key, (unsigned long long)v[i].value, (unsigned long long)v[i].max,
		       (unsigned long long)v[i].count, each, human, pct, (unsigned long long)v[i].entries);
	}
out:
	free(v);
	cli_reply_free(&r);
	return rc;
}

/* ---- tracingpolicy domains ---- */

int cli_tp_domains(int argc, char **argv)
{
	struct intro_opts o = {0};
	const msgpack_object *doms;
	struct cli_reply r;
	uint32_t i, j;
	int rc = parse_opts("tracingpolicy domains", argc, argv, &o,
			    "usage: vigil tracingpolicy domains [--server-address URL]\n"
			    "  the policy domains and their policies: grpc (the control socket's: tracingpolicy add),\n"
			    "  file (--tracing-policy, --tracing-policy-dir)\n");

	if (rc >= 0)
		return rc;
	rc = ask("tracingpolicy domains", o.control, "domains", &r);
	doms = rc ? NULL : vigil_msgpack_get(r.root, "domains");
	if (!rc)
		printf("%-6s %s\n", "DOMAIN", "POLICIES");
	for (i = 0; doms && doms->type == MSGPACK_OBJECT_ARRAY && i < doms->via.array.size; i++) {
		const msgpack_object *d = &doms->via.array.ptr[i], *pols = vigil_msgpack_get(d, "policies");
		char name[16];

		printf("%-6s ", get_str(d, "name", name, sizeof(name)));
		for (j = 0; pols && pols->type == MSGPACK_OBJECT_ARRAY && j < pols->via.array.size; j++)
			printf("%s%.*s", j ? "," : "", (int)pols->via.array.ptr[j].via.str.size,
			       pols->via.array.ptr[j].via.str.ptr);
		printf("%s\n", pols && pols->type == MSGPACK_OBJECT_ARRAY && pols->via.array.size ? "" : "-");
	}
	cli_reply_free(&r);
	return rc;
}

/* ---- policyfilter ---- */

int cmd_policyfilter(int argc, char **argv)
{
	static const char usage[] = "usage: vigil policyfilter dump [-o text|json] [--server-address URL]\n"
				    "  the scoped policies (namespaced, podSelector, containerSelector) and the cgroups\n"
				    "  each runs in, from the kernel's vg_scopes (tetra policyfilter dump)\n";
	struct intro_opts o = {.output = "text"};
	const msgpack_object *pols, *entries;
	struct cli_reply r;
	uint32_t i, j;
	char name[256], ns[256], path[256];
	int rc = parse_opts("policyfilter", argc, argv, &o, usage);

	if (rc >= 0)
		return rc;
	if (o.first + 1 != argc || strcmp(argv[o.first], "dump")) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	if (strcmp(o.output, "text") && strcmp(o.output, "json"))
		return cli_bad_value("policyfilter", "output", o.output);
	rc = ask("policyfilter", o.control, "policyfilter", &r);
	if (rc)
		goto out;
	if (!strcmp(o.output, "json")) {
		json_t *j = to_json(r.root);

		json_object_del(j, "ok");
		print_json(j);
		json_decref(j);
		goto out;
	}
	pols = vigil_msgpack_get(r.root, "policies");
	entries = vigil_msgpack_get(r.root, "entries");
	/* tetra's dump: a line per policy id, its cgroup ids after it */
	for (i = 0; pols && pols->type == MSGPACK_OBJECT_ARRAY && i < pols->via.array.size; i++) {
		const msgpack_object *p = &pols->via.array.ptr[i];
		uint64_t scope = get_u64(p, "scope");

		get_str(p, "namespace", ns, sizeof(ns));
		printf("%llu %s%s%s:", (unsigned long long)scope, ns, ns[0] ? "/" : "", get_str(p, "policy", name, sizeof(name)));
		for (j = 0; entries && entries->type == MSGPACK_OBJECT_ARRAY && j < entries->via.array.size; j++) {
			const msgpack_object *e = &entries->via.array.ptr[j];

			if (get_u64(e, "scope") != scope)
				continue;
			get_str(e, "cgroup", path, sizeof(path));
			printf(" %llu%s%s%s", (unsigned long long)get_u64(e, "cgroup_id"), path[0] ? "(" : "", path,
			       path[0] ? ")" : "");
		}
		printf("\n");
	}
out:
	cli_reply_free(&r);
	return rc;
}

/* ---- cgtracker and cri cgroup_path: the cgroup v2 tree as the resolver reads it ---- */

struct tree_walk {
	size_t mlen;
	const char *only;	/* a container id: only its cgroups */
	size_t found;
};

static __thread struct tree_walk *walking;	/* nftw takes no context */

static int on_cgroup(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	struct tree_walk *w = walking;
	char id[VIGIL_CONTAINER_ID_MAX];
	const char *rel = path + w->mlen;

	(void)ftw;
	if (type != FTW_D)
		return 0;
	if (!*rel)
		rel = "/";
	/* a cgroup directory's inode number is its id (bpf_get_current_cgroup_id) */
	if (!vigil_container_id_from_path(rel, id) || (w->only && strcmp(w->only, id)))
		return 0;
	w->found++;
	if (w->only)
		printf("%s\n", rel);
	else
		printf("%-12llu %s %s\n", (unsigned long long)st->st_ino, id, rel);
	return 0;
}

static int walk_tree(const char *cmd, const char *only)
{
	struct vigil_cgroups *cg = vigil_cgroups__new("/proc/self/mounts", "/proc", 1);
	const char *mount = cg ? vigil_cgroups__mount(cg) : NULL;
	struct tree_walk w = {.only = only};
	int rc = 0;

	if (!mount) {
		fprintf(stderr, "vigil %s: no cgroup v2 mount in /proc/self/mounts: container cgroups are found there\n",
			cmd);
		vigil_cgroups__free(cg);
		return 1;
	}
	w.mlen = strlen(mount);
	walking = &w;
	if (nftw(mount, on_cgroup, 16, FTW_PHYS | FTW_MOUNT) < 0) {
		fprintf(stderr, "vigil %s: cannot walk %s: %s\n", cmd, mount, strerror(errno));
		rc = 1;
	}
	walking = NULL;
	if (!rc && only && !w.found) {
		fprintf(stderr, "vigil %s: no cgroup under %s names container %s\n", cmd, mount, only);
		rc = 1;
	}
	vigil_cgroups__free(cg);
	return rc;
}

int cmd_cgtracker(int argc, char **argv)
{
	static const char usage[] = "usage: vigil cgtracker dump\n"
				    "  every cgroup (v2) that names a container, as vigil's resolver maps a cgroup id\n"
				    "  to its container: CGROUP_ID CONTAINER_ID PATH (tetra cgtracker dump)\n";
	struct intro_opts o = {0};
	int rc = parse_opts("cgtracker", argc, argv, &o, usage);

	if (rc >= 0)
		return rc;
	if (o.first + 1 != argc || strcmp(argv[o.first], "dump")) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	printf("%-12s %s %s\n", "CGROUP_ID", "CONTAINER_ID", "PATH");
	return walk_tree("cgtracker", NULL);
}

int cmd_cri(int argc, char **argv)
{
	static const char usage[] = "usage: vigil cri version [-o raw|json] [--server-address URL]\n"
				    "       vigil cri cgroup_path CONTAINER_ID\n"
				    "  version: the container runtime the agent follows (its CRI endpoint) and its state;\n"
				    "  cgroup_path: the cgroup (v2) path of a container, as the agent resolves it\n";
	struct intro_opts o = {.output = "raw"};
	const msgpack_object *rt;
	struct cli_reply r;
	char runtime[64], error[256];
	int rc = parse_opts("cri", argc, argv, &o, usage);

	if (rc >= 0)
		return rc;
	if (o.first + 2 == argc && !strcmp(argv[o.first], "cgroup_path"))
		return walk_tree("cri cgroup_path", argv[o.first + 1]);
	if (o.first + 1 != argc || strcmp(argv[o.first], "version")) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	if (strcmp(o.output, "raw") && strcmp(o.output, "json"))
		return cli_bad_value("cri", "output", o.output);
	rc = ask("cri", o.control, "status", &r);
	rt = rc ? NULL : vigil_msgpack_get(r.root, "container_runtime");
	if (rt && !strcmp(o.output, "json")) {
		json_t *j = to_json(rt);

		print_json(j);
		json_decref(j);
	} else if (rt) {
		const msgpack_object *c = vigil_msgpack_get(rt, "connected");
		bool connected = c && c->type == MSGPACK_OBJECT_BOOLEAN && c->via.boolean;

		get_str(rt, "runtime", runtime, sizeof(runtime));
		get_str(rt, "error", error, sizeof(error));
		printf("runtime_name:\"%s\" connected:%s pods:%llu containers:%llu%s%s%s\n", runtime,
		       connected ? "true" : "false", (unsigned long long)get_u64(rt, "pods"),
		       (unsigned long long)get_u64(rt, "containers"), error[0] ? " error:\"" : "", error,
		       error[0] ? "\"" : "");
	}
	cli_reply_free(&r);
	return rc;
}

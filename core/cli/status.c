/* status.c - `vigil status` (ask the agent) and `vigil probe` (probe locally). */
#include <errno.h>
#include <getopt.h>
#include <msgpack.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "cli.h"
#include "encode/encode.h"
#include "loader/loader.h"

static void print_str(const char *label, const msgpack_object *o)
{
	if (o && o->type == MSGPACK_OBJECT_STR)
		printf("%-18s %.*s\n", label, (int)o->via.str.size, o->via.str.ptr);
}

static void print_runtime(const msgpack_object *rt)
{
	const msgpack_object *ok = vigil_msgpack_get(rt, "connected"), *name = vigil_msgpack_get(rt, "runtime");
	const msgpack_object *why = vigil_msgpack_get(rt, "error"), *pods = vigil_msgpack_get(rt, "pods");
	const msgpack_object *ctrs = vigil_msgpack_get(rt, "containers");

	if (!ok || ok->type != MSGPACK_OBJECT_BOOLEAN || !name || name->type != MSGPACK_OBJECT_STR || !why ||
	    why->type != MSGPACK_OBJECT_STR || !pods || !ctrs)
		return;
	if (ok->via.boolean)
		printf("%-18s %.*s: %llu pods, %llu containers\n", "container runtime", (int)name->via.str.size,
		       name->via.str.ptr, (unsigned long long)pods->via.u64, (unsigned long long)ctrs->via.u64);
	else
		printf("%-18s none: events carry no pod (%.*s)\n", "container runtime", (int)why->via.str.size,
		       why->via.str.ptr);
}

static unsigned long long u64_of(const msgpack_object *map, const char *key)
{
	const msgpack_object *o = map ? vigil_msgpack_get(map, key) : NULL;

	return o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (unsigned long long)o->via.u64 : 0;
}

/* The bus's delivery stamps and who fell behind (README "Delivery"): the incarnation and
 * last seq a consumer's gap report names, each subscriber connection's sent / dropped /
 * queued, and the journal's counters (all 0 without --journal-dir). */
static void print_delivery(const msgpack_object *d, const msgpack_object *counters)
{
	const msgpack_object *inc = d ? vigil_msgpack_get(d, "incarnation") : NULL;
	const msgpack_object *subs = d ? vigil_msgpack_get(d, "subscribers") : NULL;
	uint32_t i;

	if (!inc || inc->type != MSGPACK_OBJECT_STR)
		return;
	printf("\ndelivery:\n");
	printf("  %-18s %.*s\n", "incarnation", (int)inc->via.str.size, inc->via.str.ptr);
	printf("  %-18s %llu\n", "last seq", u64_of(d, "last_seq"));
	printf("  %-18s %llu sent, %llu dropped\n", "bus", u64_of(counters, "bus_sent"), u64_of(counters, "bus_dropped"));
	printf("  %-18s %llu written, %llu dropped, %llu evicted, %llu bytes, seq %llu..%llu\n", "journal",
	       u64_of(counters, "journal_written"), u64_of(counters, "journal_dropped"),
	       u64_of(counters, "journal_evicted"), u64_of(counters, "journal_bytes"),
	       u64_of(counters, "journal_oldest_seq"), u64_of(counters, "journal_last_seq"));
	if (!subs || subs->type != MSGPACK_OBJECT_ARRAY)
		return;
	printf("  subscribers: %u\n", subs->via.array.size);
	if (subs->via.array.size)
		printf("    %-8s %-8s %12s %12s %14s\n", "PID", "UID", "SENT", "DROPPED", "QUEUED_BYTES");
	for (i = 0; i < subs->via.array.size; i++) {
		const msgpack_object *s = &subs->via.array.ptr[i];
		const msgpack_object *pid = vigil_msgpack_get(s, "pid"), *uid = vigil_msgpack_get(s, "uid");
		char p[24] = "-", u[24] = "-";

		/* pid and uid are known for ipc:// peers only; -1 elsewhere */
		if (pid && pid->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			snprintf(p, sizeof(p), "%llu", (unsigned long long)pid->via.u64);
		if (uid && uid->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			snprintf(u, sizeof(u), "%llu", (unsigned long long)uid->via.u64);
		printf("    %-8s %-8s %12llu %12llu %14llu\n", p, u, u64_of(s, "sent"), u64_of(s, "dropped"),
		       u64_of(s, "queued_bytes"));
	}
}

static void print_text(const msgpack_object *root)
{
	const msgpack_object *mechs = vigil_msgpack_get(root, "mechanisms");
	const msgpack_object *counters = vigil_msgpack_get(root, "counters");
	const msgpack_object *up = vigil_msgpack_get(root, "uptime_s");
	uint32_t i;

	print_str("version", vigil_msgpack_get(root, "version"));
	print_str("kernel", vigil_msgpack_get(root, "kernel"));
	print_str("node", vigil_msgpack_get(root, "node_name"));
	if (up && up->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		printf("%-18s %llu s\n", "uptime", (unsigned long long)up->via.u64);
	print_str("process hooks", vigil_msgpack_get(root, "process_mechanism"));
	print_str("cgroup v2", vigil_msgpack_get(root, "cgroup_v2"));
	print_runtime(vigil_msgpack_get(root, "container_runtime"));
	printf("\nmechanisms this kernel permits (probed):\n");
	for (i = 0; mechs && mechs->type == MSGPACK_OBJECT_ARRAY && i < mechs->via.array.size; i++) {
		const msgpack_object *m = &mechs->via.array.ptr[i];
		const msgpack_object *name = vigil_msgpack_get(m, "name");
		const msgpack_object *ok = vigil_msgpack_get(m, "ok");
		const msgpack_object *why = vigil_msgpack_get(m, "reason");

		if (!name || !ok || !why || name->type != MSGPACK_OBJECT_STR || why->type != MSGPACK_OBJECT_STR)
			continue;
		printf("  %-18.*s %-4s %.*s\n", (int)name->via.str.size, name->via.str.ptr,
		       ok->type == MSGPACK_OBJECT_BOOLEAN && ok->via.boolean ? "yes" : "no",
		       (int)why->via.str.size, why->via.str.ptr);
	}
	printf("\npolicies:\n");
	cli_print_policies(vigil_msgpack_get(root, "policies"));
	cli_print_policy_dir(vigil_msgpack_get(root, "policy_dir"));
	print_delivery(vigil_msgpack_get(root, "delivery"), counters);
	printf("\ncounters:\n");
	for (i = 0; counters && counters->type == MSGPACK_OBJECT_MAP && i < counters->via.map.size; i++) {
		const msgpack_object_kv *kv = &counters->via.map.ptr[i];

		if (kv->key.type == MSGPACK_OBJECT_STR && kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			printf("  %-32.*s %llu\n", (int)kv->key.via.str.size, kv->key.via.str.ptr,
			       (unsigned long long)kv->val.via.u64);
	}
}

int cmd_status(int argc, char **argv)
{
	static const struct option options[] = {
		{"output", required_argument, NULL, 'o'},
		{"control", required_argument, NULL, 'c'},
		{"server-address", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const char request[] = "\x81\xa3" "cmd" "\xa6" "status";	/* {"cmd": "status"} */
	const char *url = VIGIL_BUS_DEFAULT_CONTROL;
	struct vigil_buf out = {0};
	struct cli_reply reply;
	bool json = false;
	int c, rc = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:c:h", options, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (strcmp(optarg, "json") && strcmp(optarg, "text"))
				return cli_bad_value("status", "output", optarg);
			json = !strcmp(optarg, "json");
			break;
		case 'c': url = optarg; break;
		case 'h': printf("usage: vigil status [-o text|json] [--control URL | --server-address URL]\n"); return 0;
		default: return 2;
		}
	}
	if (cli_request("status", url, request, sizeof(request) - 1, 3000, &reply))
		goto out;
	/* tetra's GetHealthStatusResponse first, then vigil's own fields */
	if (json) {
		if (vigil_json_from_msgpack(reply.root, &out) || out.len < 2)
			goto out;
		printf("{\"health_status\":[{\"event\":\"HEALTH_STATUS_TYPE_STATUS\",\"status\":\"HEALTH_STATUS_RUNNING\","
		       "\"details\":\"running\"}],%s\n", out.data + 1);
	} else {
		printf("Health Status: running\n\n");
		print_text(reply.root);
	}
	rc = 0;
out:
	cli_reply_free(&reply);
	vigil_buf_free(&out);
	return rc;
}

/* tetra probe's lines ("fentry: false"): every mechanism vigil probes, then tetra's name of
 * those tetra probes under another (fmodret, signal); -o json adds why each failed. */
int cmd_probe(int argc, char **argv)
{
	struct vigil_probe_report r;
	const char *alias;
	bool json = false;
	int m;

	if (argc == 2 && !strcmp(argv[1], "config"))
		return cli_probe_config();
	if (argc == 3 && (!strcmp(argv[1], "-o") || !strcmp(argv[1], "--output")) &&
	    (!strcmp(argv[2], "json") || !strcmp(argv[2], "text")))
		json = !strcmp(argv[2], "json");
	else if (argc > 1) {
		fprintf(stderr, "usage: vigil probe [-o text|json] | config\n"
				"  the BPF mechanisms this kernel permits, as tetra's \"name: true|false\" lines (-o json:\n"
				"  with the reason each failed); config: the kernel options they depend on\n");
		return 2;
	}
	vigil_mount_fs();
	if (vigil_probe_kernel(&r)) {
		fprintf(stderr, "vigil probe: probing failed\n");
		return 1;
	}
	if (json)
		printf("{\"probes\":[");
	for (m = 0; m < VIGIL_MECH_COUNT; m++) {
		if (json) {
			json_t *reason = json_string(r.mech[m].reason);
			char *q = json_dumps(reason, JSON_ENCODE_ANY);

			printf("%s{\"name\":\"%s\",\"enabled\":%s,\"reason\":%s}", m ? "," : "", vigil_mech_name(m),
			       r.mech[m].ok ? "true" : "false", q ? q : "\"\"");
			free(q);
			json_decref(reason);
			continue;
		}
		printf("%s: %s\n", vigil_mech_name(m), r.mech[m].ok ? "true" : "false");
	}
	for (m = 0; !json && m < VIGIL_MECH_COUNT; m++) {
		alias = cli_tetra_probe_name(vigil_mech_name(m));
		if (alias)
			printf("%s: %s\n", alias, r.mech[m].ok ? "true" : "false");
	}
	if (json)
		printf("]}\n");
	return 0;
}

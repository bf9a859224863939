/* tracingpolicy.c - `vigil tracingpolicy` (alias `tp`): add, list, delete, enable, disable,
 * set-mode, over the agent's control socket. The agent parses and validates; its errors
 * name the file, line and column. */
#include <errno.h>
#include <getopt.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "cli.h"
#include "encode/encode.h"

#define POLICY_FILE_MAX (1 << 20)

struct tp_opts {
	const char *control;
	const char *mode;
	long ttl;		/* add-value --ttl seconds; -1: the agent's default */
	bool json;
	const char *namespace_;	/* -n: the named policy must be a TracingPolicyNamespaced of it */
	int timeout_ms;		/* for the agent's answer; 0: the default (10 s) */
};

/* Adding a policy loads one BPF program per hook: a generated_ftrace list of dozens of
 * functions takes tens of seconds on a slow (emulated) machine. */
#define ADD_TIMEOUT_MS 120000

/* What a successful reply prints, if anything. */
typedef void (*tp_print_fn)(const struct tp_opts *o, const msgpack_object *reply);

static void pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* One field of a request. A field with no key is an option not given and is left out: the
 * map's header counts the table, so it cannot disagree with the fields packed. */
struct tp_field {
	const char *key;
	const char *str;	/* a string of len bytes; NULL: the value is num */
	size_t len;
	uint64_t num;
};

static struct tp_field field_str(const char *key, const char *s)
{
	return (struct tp_field){.key = key, .str = s, .len = s ? strlen(s) : 0};
}

static void pack_fields(msgpack_packer *pk, const struct tp_field *f, size_t n)
{
	size_t i, count = 0;

	for (i = 0; i < n; i++)
		count += f[i].key != NULL;
	msgpack_pack_map(pk, count);
	for (i = 0; i < n; i++) {
		if (!f[i].key)
			continue;
		pack_str(pk, f[i].key);
		if (f[i].str)
			msgpack_pack_str_with_body(pk, f[i].str, f[i].len);
		else
			msgpack_pack_uint64(pk, f[i].num);
	}
}

static void print_policies(const struct tp_opts *o, const msgpack_object *reply)
{
	if (o->json) {
		cli_print_policies_tetra_json(vigil_msgpack_get(reply, "policies"));
		return;
	}
	cli_print_policies(vigil_msgpack_get(reply, "policies"));
	cli_print_policy_dir(vigil_msgpack_get(reply, "policy_dir"));
}

static void print_str(const msgpack_object *map, const char *key, int width)
{
	const msgpack_object *v = vigil_msgpack_get(map, key);

	if (v && v->type == MSGPACK_OBJECT_STR)
		printf("%-*.*s ", width, (int)v->via.str.size, v->via.str.ptr);
	else if (v && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		printf("%-*llu ", width, (unsigned long long)v->via.u64);
	else
		printf("%-*s ", width, "-");
}

/* list-values: one line per value added at run time */
static void print_values(const struct tp_opts *o, const msgpack_object *reply)
{
	const msgpack_object *v = vigil_msgpack_get(reply, "values");
	struct vigil_buf json = {0};
	uint32_t i;

	if (o->json) {
		if (!vigil_json_from_msgpack(v, &json))
			printf("%s\n", json.data);
		vigil_buf_free(&json);
		return;
	}
	printf("%-32s %-8s %-10s %-20s %-9s %-30s %s\n", "VALUE", "DEVICE", "INODE", "BY", "CAUSE_UID", "ADDED",
	       "EXPIRES");
	for (i = 0; v && v->type == MSGPACK_OBJECT_ARRAY && i < v->via.array.size; i++) {
		const msgpack_object *e = &v->via.array.ptr[i];

		print_str(e, "value", 32);
		print_str(e, "device", 8);
		print_str(e, "inode", 10);
		print_str(e, "by", 20);
		print_str(e, "cause_uid", 9);
		print_str(e, "added", 30);
		print_str(e, "expires", 0);
		printf("\n");
	}
}

/* Send one request; print the error, or what print makes of the reply; returns the exit code. */
static int request(const struct tp_opts *o, msgpack_sbuffer *req, tp_print_fn print)
{
	struct cli_reply reply;
	int rc = cli_request("tracingpolicy", o->control, req->data, req->size, o->timeout_ms ? o->timeout_ms : 10000,
			     &reply);

	if (!rc && print)
		print(o, reply.root);
	cli_reply_free(&reply);
	return rc;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(POLICY_FILE_MAX + 1);
	if (buf) {
		*len = fread(buf, 1, POLICY_FILE_MAX + 1, f);
		if (*len > POLICY_FILE_MAX) {
			free(buf);
			buf = NULL;
			errno = EFBIG;
		}
	}
	fclose(f);
	return buf;
}

static int tp_add(const struct tp_opts *opts, int argc, char **argv, msgpack_packer *pk, msgpack_sbuffer *sb)
{
	struct tp_opts add = *opts, *o = &add;
	size_t len = 0;
	char *yaml;
	int rc;

	add.timeout_ms = ADD_TIMEOUT_MS;

	if (argc != 1) {
		fprintf(stderr, "usage: vigil tracingpolicy add FILE [--mode enforce|monitor]\n");
		return 2;
	}
	yaml = read_file(argv[0], &len);
	if (!yaml) {
		fprintf(stderr, "vigil tracingpolicy: cannot read %s: %s\n", argv[0], strerror(errno));
		return 1;
	}
	const struct tp_field fields[] = {
		field_str("cmd", "policy_add"),
		field_str("file", argv[0]),
		{.key = "yaml", .str = yaml, .len = len},
		field_str(o->mode ? "mode" : NULL, o->mode),
	};
	pack_fields(pk, fields, VIGIL_ARRAY_SIZE(fields));
	free(yaml);
	rc = request(o, sb, NULL);
	if (!rc)
		printf("policy from %s added\n", argv[0]);
	return rc;
}

/* tetra's -n NAMESPACE: names are unique across namespaces here, so -n only confirms that
 * the policy named is that namespace's; 0 when it is, 1 (said why) when not */
static int check_namespace(const struct tp_opts *o, const char *name)
{
	const msgpack_object *pols, *p, *n, *ns;
	struct cli_reply reply;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint32_t i;
	int rc;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	pack_str(&pk, "cmd");
	pack_str(&pk, "policy_list");
	rc = cli_request("tracingpolicy", o->control, sb.data, sb.size, 10000, &reply);
	msgpack_sbuffer_destroy(&sb);
	if (rc)
		return rc;
	pols = vigil_msgpack_get(reply.root, "policies");
	for (i = 0, rc = 1; pols && pols->type == MSGPACK_OBJECT_ARRAY && i < pols->via.array.size; i++) {
		p = &pols->via.array.ptr[i];
		n = vigil_msgpack_get(p, "name");
		ns = vigil_msgpack_get(p, "namespace");
		if (!n || n->type != MSGPACK_OBJECT_STR || n->via.str.size != strlen(name) ||
		    memcmp(n->via.str.ptr, name, n->via.str.size))
			continue;
		if (ns && ns->type == MSGPACK_OBJECT_STR && ns->via.str.size == strlen(o->namespace_) &&
		    !memcmp(ns->via.str.ptr, o->namespace_, ns->via.str.size))
			rc = 0;
	}
	cli_reply_free(&reply);
	if (rc)
		fprintf(stderr, "vigil tracingpolicy: no policy %s in namespace %s\n", name, o->namespace_);
	return rc;
}

static int tp_named(const struct tp_opts *o, const char *cmd, int argc, char **argv, msgpack_packer *pk,
		    msgpack_sbuffer *sb)
{
	bool set_mode = !strcmp(cmd, "policy_set_mode");

	if (argc != (set_mode ? 2 : 1)) {
		fprintf(stderr, "usage: vigil tracingpolicy %s NAME%s\n", cmd + 7, set_mode ? " enforce|monitor" : "");
		return 2;
	}
	if (set_mode && strcmp(argv[1], "enforce") && strcmp(argv[1], "monitor"))
		return cli_bad_value("tracingpolicy set-mode", "mode", argv[1]);
	if (o->namespace_ && o->namespace_[0] && check_namespace(o, argv[0]))
		return 1;
	const struct tp_field fields[] = {
		field_str("cmd", cmd),
		field_str("name", argv[0]),
		field_str(set_mode ? "mode" : NULL, set_mode ? argv[1] : NULL),
	};
	pack_fields(pk, fields, VIGIL_ARRAY_SIZE(fields));
	return request(o, sb, NULL);
}

/* add-value, remove-value LIST VALUE; list-values LIST */
static int tp_list_value(const struct tp_opts *o, const char *cmd, int argc, char **argv, msgpack_packer *pk,
			 msgpack_sbuffer *sb)
{
	bool values = !strcmp(cmd, "policy_list_values"), add = !strcmp(cmd, "policy_list_add");

	if (argc != (values ? 1 : 2)) {
		fprintf(stderr, "usage: vigil tracingpolicy %s LIST%s\n",
			values ? "list-values" : add ? "add-value" : "remove-value",
			values ? " [-o text|json]" : add ? " VALUE [--ttl SECONDS]" : " VALUE");
		return 2;
	}
	const struct tp_field fields[] = {
		field_str("cmd", cmd),
		field_str("list", argv[0]),
		field_str(values ? NULL : "value", values ? NULL : argv[1]),
		{.key = add && o->ttl >= 0 ? "ttl" : NULL, .num = (uint64_t)o->ttl},
	};
	pack_fields(pk, fields, VIGIL_ARRAY_SIZE(fields));
	return request(o, sb, values ? print_values : NULL);
}

static const struct {
	const char *name;
	const char *cmd;	/* control command */
} subcommands[] = {
	{"add", "policy_add"},
	{"list", "policy_list"},
	{"delete", "policy_delete"},
	{"enable", "policy_enable"},
	{"disable", "policy_disable"},
	{"set-mode", "policy_set_mode"},
	{"add-value", "policy_list_add"},
	{"remove-value", "policy_list_remove"},
	{"list-values", "policy_list_values"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: vigil tracingpolicy add FILE [-m enforce|monitor] [--domain grpc]\n"
		   "       vigil tracingpolicy list [-o text|json]\n"
		   "       vigil tracingpolicy delete|enable|disable NAME [-n NAMESPACE]\n"
		   "       vigil tracingpolicy set-mode NAME enforce|monitor [-n NAMESPACE]\n"
		   "       vigil tracingpolicy modify FILE [-m enforce|monitor]   (the policy with its mode set,\n"
		   "                  on standard output, as tetra's)\n"
		   "       vigil tracingpolicy add-value LIST VALUE [--ttl SECONDS]\n"
		   "                  (extend a list in the kernel; a \"files\" list takes the file at the path now;\n"
		   "                   the entry expires after the agent's --deny-ttl, or SECONDS; 0: never)\n"
		   "       vigil tracingpolicy remove-value LIST VALUE   (a value, a path, or DEVICE:INODE)\n"
		   "       vigil tracingpolicy list-values LIST [-o text|json]   (what was added at run time)\n"
		   "       vigil tracingpolicy generate empty|all-syscalls|all-syscalls-list|file-prefix PREFIX...\n"
		   "                  [-m BINARY]   (a policy on standard output, as tetra's; -m: matchBinaries In)\n"
		   "options: --control URL, or tetra's --server-address URL (default %s)\n"
		   "(list -o json prints tetra's shape: {\"policies\":[{\"id\",\"name\",\"state\":\"TP_STATE_ENABLED\",...}]})\n",
		VIGIL_BUS_DEFAULT_CONTROL);
}

/* tetra's --domain (only its grpc domain is vigil's to manage) and -n NAMESPACE; 0 or 2 */
static int scope_option(int c, struct tp_opts *o)
{
	/* tetra's domains: grpc (the API's, its default), k8s (CRDs), static (files) */
	if (c == 'D' && optarg[0] && strcmp(optarg, "grpc")) {
		fprintf(stderr, "vigil tracingpolicy: --domain %s refused: vigil manages only the control "
				"socket's policies (tetra's grpc domain); file policies change with their files "
				"(--tracing-policy-dir), and there are no Kubernetes CRD policies\n", optarg);
		return 2;
	}
	/* a TracingPolicyNamespaced is named by its name alone here (names are unique) */
	if (c == 'n')
		o->namespace_ = optarg;
	return 0;
}

/* The options after the subcommand (argv[1]); -1 when the command goes on, else its exit code. */
static int tp_options(int argc, char **argv, struct tp_opts *o)
{
	static const struct option options[] = {
		{"mode", required_argument, NULL, 'm'},
		{"output", required_argument, NULL, 'o'},
		{"control", required_argument, NULL, 'c'},
		{"server-address", required_argument, NULL, 'c'},
		{"ttl", required_argument, NULL, 't'},
		{"domain", required_argument, NULL, 'D'},
		{"namespace", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	optind = 2;
	while ((c = getopt_long(argc, argv, "m:o:c:t:n:h", options, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (strcmp(optarg, "enforce") && strcmp(optarg, "monitor"))
				return cli_bad_value("tracingpolicy", "mode", optarg);
			o->mode = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "json") && strcmp(optarg, "text"))
				return cli_bad_value("tracingpolicy", "output", optarg);
			o->json = !strcmp(optarg, "json");
			break;
		case 'c': o->control = optarg; break;
		case 't':
			if (vigil_parse_long(optarg, 0, 10L * 365 * 86400, &o->ttl))
				return cli_bad_value("tracingpolicy", "ttl", optarg);
			break;
		case 'D':
		case 'n':
			if (scope_option(c, o))
				return 2;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	return -1;
}

int cmd_tracingpolicy(int argc, char **argv)
{
	struct tp_opts o = {.control = VIGIL_BUS_DEFAULT_CONTROL, .ttl = -1};
	msgpack_sbuffer sb;
	msgpack_packer pk;
	const char *sub;
	size_t i;
	int rc;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	sub = argv[1];
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(sub, "generate"))
		return cli_tp_generate(argc - 1, argv + 1);
	if (!strcmp(sub, "modify"))
		return cli_tp_modify(argc - 1, argv + 1);
	if (!strcmp(sub, "domains"))
		return cli_tp_domains(argc - 1, argv + 1);
	rc = tp_options(argc, argv, &o);
	if (rc >= 0)
		return rc;
	for (i = 0; i < VIGIL_ARRAY_SIZE(subcommands); i++)
		if (!strcmp(sub, subcommands[i].name))
			break;
	if (i == VIGIL_ARRAY_SIZE(subcommands)) {
		fprintf(stderr, "vigil tracingpolicy: unknown subcommand '%s'\n", sub);
		usage(stderr);
		return 2;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (!strcmp(sub, "add")) {
		rc = tp_add(&o, argc - optind, argv + optind, &pk, &sb);
	} else if (!strcmp(sub, "list")) {
		const struct tp_field list = field_str("cmd", "policy_list");

		pack_fields(&pk, &list, 1);
		rc = request(&o, &sb, print_policies);
	} else if (!strncmp(subcommands[i].cmd, "policy_list_", 12)) {
		rc = tp_list_value(&o, subcommands[i].cmd, argc - optind, argv + optind, &pk, &sb);
	} else {
		rc = tp_named(&o, subcommands[i].cmd, argc - optind, argv + optind, &pk, &sb);
	}
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

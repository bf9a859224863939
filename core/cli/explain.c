/* explain.c - `vigil explain RESOURCE[.FIELD...]`, as tetra's (kubectl explain's layout):
 * KIND, VERSION, FIELD and FIELDS, from what vigil's policy parser walks
 * (vigil_policy_explain). Where tetra prints the CRD's description, vigil says what it does
 * with the field: refused (and why) or ignored; taken otherwise. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "policy/policy.h"

static const struct {
	const char *name, *kind;
} resources[] = {
	{"tracingpolicy", "TracingPolicy"},
	{"tracingpolicies", "TracingPolicy"},
	{"tp", "TracingPolicy"},
	{"tracingpolicynamespaced", "TracingPolicyNamespaced"},
	{"tracingpoliciesnamespaced", "TracingPolicyNamespaced"},
	{"tpn", "TracingPolicyNamespaced"},
};

static void collect(void *ctx, const struct vigil_policy_field_info *f)
{
	json_t *fields = ctx;

	json_array_append_new(fields, json_pack("{s:s, s:s, s:b, s:b, s:s?, s:b}", "name", f->name, "type", f->type,
						"required", f->required, "has_fields", f->has_fields, "refused",
						f->refused, "ignored", f->ignored));
}

/* the fields at path as a JSON array (recursive: each with its own "fields"); NULL: none */
static json_t *fields_at(const char *path, bool recursive, int depth)
{
	json_t *fields = json_array(), *f;
	char child[256];
	size_t i;

	if (vigil_policy_explain(path, collect, fields, NULL)) {
		json_decref(fields);
		return NULL;
	}
	json_array_foreach(fields, i, f) {
		json_t *sub;

		if (!recursive || depth > 8 || !json_is_true(json_object_get(f, "has_fields")))
			continue;
		snprintf(child, sizeof(child), "%s%s%s", path, *path ? "." : "", json_string_value(json_object_get(f, "name")));
		sub = fields_at(child, true, depth + 1);
		if (sub)
			json_object_set_new(f, "fields", sub);
	}
	return fields;
}

static void print_fields(json_t *fields, int depth)
{
	const char *pad = "                ";
	size_t i;
	json_t *f;

	json_array_foreach(fields, i, f) {
		const char *refused = json_string_value(json_object_get(f, "refused"));

		printf("%.*s   %s\t<%s>%s\n", 2 * depth, pad, json_string_value(json_object_get(f, "name")),
		       json_string_value(json_object_get(f, "type")),
		       json_is_true(json_object_get(f, "required")) ? " -required-" : "");
		if (refused)
			printf("%.*s     refused by vigil: %s\n", 2 * depth, pad, refused);
		else if (json_is_true(json_object_get(f, "ignored")))
			printf("%.*s     accepted and ignored by vigil\n", 2 * depth, pad);
		if (json_object_get(f, "fields"))
			print_fields(json_object_get(f, "fields"), depth + 1);
		printf("\n");
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vigil explain RESOURCE[.FIELD...] [-o text|json] [-R|--recursive]\n"
		   "       vigil explain --list\n"
		   "  the fields vigil's policy parser takes at that place of a TracingPolicy (tp) or\n"
		   "  TracingPolicyNamespaced (tpn), with what it refuses and why, as tetra explain prints them:\n"
		   "  vigil explain tracingpolicy.spec.kprobes, tp[spec][kprobes], tp.spec.kprobes.selectors\n");
}

/* "tp[spec][kprobes]" and "tp.spec.kprobes[0]" -> "tp.spec.kprobes" */
static void normalize(const char *in, char *out, size_t size)
{
	size_t n = 0;
	const char *close;

	for (; *in && n + 1 < size; in++) {
		if (*in != '[') {
			out[n++] = *in;
			continue;
		}
		close = strchr(in, ']');
		if (!close)
			break;
		/* a name in brackets is a field; a number (or nothing) an index, dropped */
		if (close > in + 1 && strspn(in + 1, "0123456789") != (size_t)(close - in - 1)) {
			n += (size_t)snprintf(out + n, size - n, ".%.*s", (int)(close - in - 1), in + 1);
			if (n >= size)
				n = size - 1;
		}
		in = close;
	}
	out[n] = '\0';
}

/* What explain found at path, as tetra prints it or as JSON; takes fields. */
static int print_explanation(const char *kind, const char *path, const char *type, json_t *fields, bool as_json)
{
	const char *dot;

	if (as_json) {
		json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:o*}", "kind", kind, "version", "v1alpha1", "field",
					*path ? path : kind, "type", type ? type : "object", "fields", fields);
		char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

		if (text)
			printf("%s\n", text);
		free(text);
		json_decref(doc);
		return 0;
	}
	printf("KIND:     %s\nVERSION:  v1alpha1\n\n", kind);
	if (*path) {
		dot = strrchr(path, '.');
		printf("FIELD:    %s <%s>\n\n", dot ? dot + 1 : path, type ? type : "object");
	}
	if (fields && json_array_size(fields)) {
		printf("FIELDS:\n");
		print_fields(fields, 0);
	}
	json_decref(fields);
	return 0;
}

int cmd_explain(int argc, char **argv)
{
	static const struct option options[] = {
		{"output", required_argument, NULL, 'o'},
		{"recursive", no_argument, NULL, 'R'},
		{"list", no_argument, NULL, 'l'},
		{"api-version", required_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *output = "text", *kind = NULL, *type = NULL, *dot;
	char path[256], field[256];
	bool recursive = false, list = false;
	json_t *fields;
	size_t i;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:Rh", options, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (strcmp(optarg, "text") && strcmp(optarg, "json"))
				return cli_bad_value("explain", "output", optarg);
			output = optarg;
			break;
		case 'R': recursive = true; break;
		case 'l': list = true; break;
		case 'a':
			if (strcmp(optarg, "v1alpha1") && strcmp(optarg, "cilium.io/v1alpha1"))
				return cli_bad_value("explain", "api-version", optarg);
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (list) {
		printf("NAME                     SHORTNAMES\nTracingPolicy            tp\nTracingPolicyNamespaced  tpn\n");
		return 0;
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	normalize(argv[optind], path, sizeof(path));
	dot = strchr(path, '.');
	snprintf(field, sizeof(field), "%.*s", dot ? (int)(dot - path) : (int)strlen(path), path);
	for (i = 0; i < VIGIL_ARRAY_SIZE(resources) && !kind; i++)
		if (!strcasecmp(field, resources[i].name))
			kind = resources[i].kind;
	if (!kind) {
		fprintf(stderr, "vigil explain: unsupported resource: %s (supported resources: TracingPolicy, tp, "
				"TracingPolicyNamespaced, tpn)\n", field);
		return 1;
	}
	memmove(path, dot ? dot + 1 : "", strlen(dot ? dot + 1 : "") + 1);
	fields = fields_at(path, recursive, 0);
	rc = vigil_policy_explain(path, NULL, NULL, &type);
	if (!fields && rc != -ENOENT) {
		fprintf(stderr, "vigil explain: the parser's schema could not be built: %s\n", strerror(-rc));
		return 1;
	}
	if (!fields && !type) {
		dot = strrchr(path, '.');
		fprintf(stderr, "vigil explain: field \"%s\" not found in %s%s%.*s\n", dot ? dot + 1 : path, kind,
			dot ? "." : "", dot ? (int)(dot - path) : 0, path);
		return 1;
	}
	return print_explanation(kind, path, type, fields, !strcmp(output, "json"));
}

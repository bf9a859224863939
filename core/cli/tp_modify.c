/* tp_modify.c - `vigil tracingpolicy modify FILE [-m enforce|monitor]`, as tetra's: the
 * policy on standard output with its mode set (spec.options' policy-mode, added or
 * replaced); the agent is not asked. Comments do not survive, as they do not in tetra's. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "cli.h"

static bool scalar_is(yaml_document_t *doc, int id, const char *s)
{
	yaml_node_t *n = yaml_document_get_node(doc, id);

	return n && n->type == YAML_SCALAR_NODE && n->data.scalar.length == strlen(s) &&
	       !memcmp(n->data.scalar.value, s, n->data.scalar.length);
}

/* The value node of key in mapping id; 0 when absent or not a mapping. */
static int lookup(yaml_document_t *doc, int id, const char *key)
{
	yaml_node_t *m = yaml_document_get_node(doc, id);
	yaml_node_pair_t *p;

	if (!m || m->type != YAML_MAPPING_NODE)
		return 0;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++)
		if (scalar_is(doc, p->key, key))
			return p->value;
	return 0;
}

static int scalar(yaml_document_t *doc, const char *s)
{
	return yaml_document_add_scalar(doc, NULL, (yaml_char_t *)s, (int)strlen(s), YAML_ANY_SCALAR_STYLE);
}

/* spec.options: the policy-mode entry's value replaced, or an entry appended. 0 or -EINVAL. */
static int set_mode(yaml_document_t *doc, const char *mode)
{
	int root = 1, spec = lookup(doc, root, "spec"), options, entry, value;
	yaml_node_t *list;
	yaml_node_item_t *it;

	if (!spec || yaml_document_get_node(doc, spec)->type != YAML_MAPPING_NODE)
		return -EINVAL;
	options = lookup(doc, spec, "options");
	if (!options) {
		options = yaml_document_add_sequence(doc, NULL, YAML_BLOCK_SEQUENCE_STYLE);
		if (!options || !yaml_document_append_mapping_pair(doc, spec, scalar(doc, "options"), options))
			return -EINVAL;
	}
	list = yaml_document_get_node(doc, options);
	if (list->type != YAML_SEQUENCE_NODE)
		return -EINVAL;
	for (it = list->data.sequence.items.start; it < list->data.sequence.items.top; it++) {
		if (!scalar_is(doc, lookup(doc, *it, "name"), "policy-mode"))
			continue;
		value = lookup(doc, *it, "value");
		if (!value)
			return -EINVAL;
		yaml_node_t *v = yaml_document_get_node(doc, value);

		if (v->type != YAML_SCALAR_NODE)
			return -EINVAL;
		/* the document owns the old value: point it at a scalar the document owns too */
		int fresh = scalar(doc, mode);

		for (yaml_node_pair_t *p = yaml_document_get_node(doc, *it)->data.mapping.pairs.start;
		     p < yaml_document_get_node(doc, *it)->data.mapping.pairs.top; p++)
			if (p->value == value)
				p->value = fresh;
		return fresh ? 0 : -EINVAL;
	}
	entry = yaml_document_add_mapping(doc, NULL, YAML_BLOCK_MAPPING_STYLE);
	if (!entry || !yaml_document_append_mapping_pair(doc, entry, scalar(doc, "name"), scalar(doc, "policy-mode")) ||
	    !yaml_document_append_mapping_pair(doc, entry, scalar(doc, "value"), scalar(doc, mode)) ||
	    !yaml_document_append_sequence_item(doc, options, entry))
		return -EINVAL;
	return 0;
}

static int write_out(void *data, unsigned char *buf, size_t size)
{
	return fwrite(buf, 1, size, data) == size;
}

int cli_tp_modify(int argc, char **argv)
{
	static const struct option options[] = {
		{"mode", required_argument, NULL, 'm'},
		{NULL, 0, NULL, 0},
	};
	yaml_parser_t parser;
	yaml_emitter_t emitter;
	yaml_document_t doc;
	const char *mode = NULL;
	FILE *f;
	int c, rc = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "m:", options, NULL)) != -1) {
		if (c != 'm')
			return 2;
		if (strcmp(optarg, "enforce") && strcmp(optarg, "monitor"))
			return cli_bad_value("tracingpolicy modify", "mode", optarg);
		mode = optarg;
	}
	if (argc - optind != 1) {
		fprintf(stderr, "usage: vigil tracingpolicy modify FILE [-m enforce|monitor]\n");
		return 2;
	}
	f = fopen(argv[optind], "re");
	if (!f) {
		fprintf(stderr, "vigil tracingpolicy modify: cannot read %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		fprintf(stderr, "vigil tracingpolicy modify: %s:%zu:%zu: %s\n", argv[optind], parser.problem_mark.line + 1,
			parser.problem_mark.column + 1, parser.problem ? parser.problem : "not YAML");
		yaml_parser_delete(&parser);
		fclose(f);
		return 1;
	}
	if (!yaml_document_get_root_node(&doc)) {
		fprintf(stderr, "vigil tracingpolicy modify: %s: empty document\n", argv[optind]);
	} else if (mode && set_mode(&doc, mode)) {
		fprintf(stderr, "vigil tracingpolicy modify: %s: no spec mapping (or options not a list) to set the mode in\n",
			argv[optind]);
	} else {
		yaml_emitter_initialize(&emitter);
		yaml_emitter_set_output(&emitter, write_out, stdout);
		yaml_emitter_set_unicode(&emitter, 1);
		/* dump takes the document and frees it */
		rc = yaml_emitter_open(&emitter) && yaml_emitter_dump(&emitter, &doc) && yaml_emitter_close(&emitter) ? 0 : 1;
		if (rc)
			fprintf(stderr, "vigil tracingpolicy modify: cannot write the policy: %s\n",
				emitter.problem ? emitter.problem : "write error");
		yaml_emitter_delete(&emitter);
		yaml_parser_delete(&parser);
		fclose(f);
		return rc;
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}

/* falco_yaml.c - falco.yaml's plugins[].init_config to JSON the way Falco converts it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "falco_yaml.h"

static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);

		if (k && k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

static void put_string(struct vigil_buf *out, const char *s)
{
	vigil_buf_puts(out, "\"");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			vigil_buf_append(out, "\\", 1);
		vigil_buf_append(out, s, 1);
	}
	vigil_buf_puts(out, "\"");
}

/* A plain scalar reads as what it looks like; a quoted one stays a string. */
static void put_scalar(struct vigil_buf *out, yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;
	char *end;

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
		put_string(out, s);
		return;
	}
	if (!*s || !strcmp(s, "null") || !strcmp(s, "~")) {
		vigil_buf_puts(out, "null");
		return;
	}
	if (!strcmp(s, "true") || !strcmp(s, "false")) {
		vigil_buf_puts(out, s);
		return;
	}
	strtoll(s, &end, 10);
	if (!*end && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9')))
		vigil_buf_puts(out, s);
	else
		put_string(out, s);
}

static int put_node(yaml_document_t *d, yaml_node_t *n, struct vigil_buf *out, int depth)
{
	yaml_node_item_t *it;
	yaml_node_pair_t *p;
	const char *sep = "";

	if (!n || depth > 16)
		return -EINVAL;
	switch (n->type) {
	case YAML_SCALAR_NODE:
		put_scalar(out, n);
		return 0;
	case YAML_SEQUENCE_NODE:
		if (n->data.sequence.items.top == n->data.sequence.items.start) {
			vigil_buf_puts(out, "null");	/* Falco's conversion: [] is null */
			return 0;
		}
		vigil_buf_puts(out, "[");
		for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++, sep = ",") {
			vigil_buf_puts(out, sep);
			if (put_node(d, yaml_document_get_node(d, *it), out, depth + 1))
				return -EINVAL;
		}
		vigil_buf_puts(out, "]");
		return 0;
	case YAML_MAPPING_NODE:
		vigil_buf_puts(out, "{");
		for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++, sep = ",") {
			yaml_node_t *k = yaml_document_get_node(d, p->key);

			if (!k || k->type != YAML_SCALAR_NODE)
				return -EINVAL;
			vigil_buf_puts(out, sep);
			put_string(out, (const char *)k->data.scalar.value);
			vigil_buf_puts(out, ":");
			if (put_node(d, yaml_document_get_node(d, p->value), out, depth + 1))
				return -EINVAL;
		}
		vigil_buf_puts(out, "}");
		return 0;
	default:
		return -EINVAL;
	}
}

int falco_init_config_json(const char *path, const char *name, struct vigil_buf *out)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *plugins, *cfg = NULL;
	yaml_node_item_t *it;
	FILE *f = fopen(path, "r");
	int rc = -ENOENT;

	if (!f)
		return -errno;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_parser_delete(&parser);
		fclose(f);
		return -EINVAL;
	}
	plugins = map_get(&doc, yaml_document_get_root_node(&doc), "plugins");
	for (it = plugins && plugins->type == YAML_SEQUENCE_NODE ? plugins->data.sequence.items.start : NULL;
	     it && it < plugins->data.sequence.items.top && !cfg; it++) {
		yaml_node_t *p = yaml_document_get_node(&doc, *it);
		yaml_node_t *n = map_get(&doc, p, "name");

		if (n && n->type == YAML_SCALAR_NODE && !strcmp((char *)n->data.scalar.value, name))
			cfg = map_get(&doc, p, "init_config");
	}
	if (cfg)
		rc = put_node(&doc, cfg, out, 0);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}

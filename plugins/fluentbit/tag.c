/* tag.c - tag templates: checked once at start, expanded per event. */
#include <errno.h>
#include <string.h>

#include "tag.h"

static const struct {
	const char *name;
	size_t len;
} placeholders[] = {
	{ "{event_type}", sizeof("{event_type}") - 1 },
	{ "{node_name}", sizeof("{node_name}") - 1 },
};

enum { PH_EVENT_TYPE, PH_NODE_NAME, PH_NONE };

static bool tag_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
	       c == '_' || c == '-';
}

static int placeholder_at(const char *s)
{
	int i;

	for (i = 0; i < PH_NONE; i++)
		if (!strncmp(s, placeholders[i].name, placeholders[i].len))
			return i;
	return PH_NONE;
}

int tag_check(const char *tmpl)
{
	const char *p;

	if (!tmpl || !*tmpl || strlen(tmpl) >= FWD_TAG_MAX)
		return -EINVAL;
	for (p = tmpl; *p;) {
		int ph = *p == '{' ? placeholder_at(p) : PH_NONE;

		if (ph != PH_NONE)
			p += placeholders[ph].len;
		else if (tag_char(*p))
			p++;
		else
			return -EINVAL;
	}
	return 0;
}

bool tag_uses_node(const char *tmpl)
{
	return strstr(tmpl, placeholders[PH_NODE_NAME].name) != NULL;
}

int tag_expand(const char *tmpl, const char *event_type, const char *node_name, char out[FWD_TAG_MAX])
{
	size_t n = 0;
	const char *p;

	for (p = tmpl; *p;) {
		int ph = *p == '{' ? placeholder_at(p) : PH_NONE;
		const char *v;

		if (ph == PH_NONE) {
			if (n + 1 >= FWD_TAG_MAX)
				goto too_long;
			out[n++] = *p++;
			continue;
		}
		v = ph == PH_EVENT_TYPE ? event_type : node_name;
		if (!v || !*v)
			v = "unknown";
		for (; *v; v++) {
			if (n + 1 >= FWD_TAG_MAX)
				goto too_long;
			out[n++] = tag_char(*v) ? *v : '_';
		}
		p += placeholders[ph].len;
	}
	out[n] = '\0';
	return 0;

too_long:
	out[n] = '\0';
	return -ENAMETOOLONG;
}

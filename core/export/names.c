/* names.c - backup names: /dir/events.json rotates to /dir/events-<UTC stamp>.json, as
 * lumberjack (the writer behind Tetragon's --export-filename) names them. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "export_internal.h"

int export_names_init(struct export_names *n, const char *path)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path, *dot;
	size_t stem;

	if (!*base)
		return -EINVAL;
	if (slash && slash == path)
		snprintf(n->dir, sizeof(n->dir), "/");
	else if (slash && (size_t)(slash - path) < sizeof(n->dir))
		snprintf(n->dir, sizeof(n->dir), "%.*s", (int)(slash - path), path);
	else if (slash)
		return -ENAMETOOLONG;
	else
		snprintf(n->dir, sizeof(n->dir), ".");
	/* the extension is from the last dot, unless the name starts with it (".events") */
	dot = strrchr(base, '.');
	if (!dot || dot == base)
		dot = base + strlen(base);
	stem = (size_t)(dot - base);
	if (stem + 2 > sizeof(n->prefix) || strlen(dot) + 1 > sizeof(n->ext))
		return -ENAMETOOLONG;
	snprintf(n->prefix, sizeof(n->prefix), "%.*s-", (int)stem, base);
	snprintf(n->ext, sizeof(n->ext), "%s", dot);
	return 0;
}

/* "2026-11-29T08-02-18.369": digits where the layout has 'd'. */
static bool is_stamp(const char *s)
{
	static const char layout[] = "dddd-dd-ddTdd-dd-dd.ddd";
	size_t i;

	for (i = 0; i < EXPORT_STAMP_LEN; i++) {
		if (layout[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != layout[i])
			return false;
	}
	return true;
}

bool export_names_match(const struct export_names *n, const char *name, char *stamp, bool *gz)
{
	size_t plen = strlen(n->prefix), elen = strlen(n->ext), len = strlen(name);
	const char *rest;

	if (len < plen + EXPORT_STAMP_LEN + elen || strncmp(name, n->prefix, plen))
		return false;
	if (!is_stamp(name + plen))
		return false;
	rest = name + plen + EXPORT_STAMP_LEN;
	if (strncmp(rest, n->ext, elen))
		return false;
	rest += elen;
	if (*rest && strcmp(rest, ".gz"))
		return false;
	memcpy(stamp, name + plen, EXPORT_STAMP_LEN);
	stamp[EXPORT_STAMP_LEN] = '\0';
	*gz = *rest != '\0';
	return true;
}

/* tpformat.c - the fields of a classic tracepoint, from tracefs's format file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensors_internal.h"

/* "\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;" */
static int parse_field(const char *line, struct tp_field *f)
{
	const char *decl = strstr(line, "field:");
	const char *semi, *name, *p;
	size_t len;

	if (!decl)
		return -EINVAL;
	decl += 6;
	semi = strchr(decl, ';');
	if (!semi)
		return -EINVAL;
	/* the name is the last identifier of the declaration, before any array suffix */
	p = semi;
	while (p > decl && p[-1] == ']')
		while (p > decl && *--p != '[')
			;
	f->is_array = p != semi;
	name = p;
	while (name > decl && (name[-1] == '_' || (name[-1] >= 'a' && name[-1] <= 'z') ||
			       (name[-1] >= 'A' && name[-1] <= 'Z') || (name[-1] >= '0' && name[-1] <= '9')))
		name--;
	len = (size_t)(p - name);
	if (!len || len >= sizeof(f->name))
		return -EINVAL;
	memcpy(f->name, name, len);
	f->name[len] = '\0';
	len = (size_t)(name - decl);
	while (len && decl[len - 1] == ' ')
		len--;
	if (len >= sizeof(f->type))
		len = sizeof(f->type) - 1;
	memcpy(f->type, decl, len);
	f->type[len] = '\0';
	p = strstr(semi, "offset:");
	f->offset = p ? (uint16_t)strtoul(p + 7, NULL, 10) : 0;
	p = strstr(semi, "size:");
	f->size = p ? (uint8_t)strtoul(p + 5, NULL, 10) : 0;
	p = strstr(semi, "signed:");
	f->is_signed = p && p[7] == '1';
	return 0;
}

int tp_format_read(const char *subsys, const char *event, struct tp_field *out, size_t max)
{
	char path[512], line[512];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s/%s/format", subsys, event);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && n < max)
		if (strstr(line, "field:") && !parse_field(line, &out[n]))
			n++;
	fclose(f);
	return (int)n;
}

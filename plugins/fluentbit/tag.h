/* tag.h - the Forward tag of an event, from a template such as "vigil.{event_type}". */
#ifndef FWD_TAG_H
#define FWD_TAG_H

#include <stdbool.h>
#include <stddef.h>

/* Longest tag we build. Fluent Bit routes on tags with Match patterns; nothing needs more. */
#define FWD_TAG_MAX 256

/* 0 when tmpl is a valid template: at most FWD_TAG_MAX - 1 characters of [A-Za-z0-9._-] and
 * the placeholders {event_type} and {node_name}; -EINVAL otherwise. */
int tag_check(const char *tmpl);
/* True when tmpl uses {node_name} (the caller then looks the node name up per event). */
bool tag_uses_node(const char *tmpl);
/* Expand tmpl into out (FWD_TAG_MAX bytes). Placeholder values are sanitised: characters
 * outside the tag alphabet become '_'; a missing value expands to "unknown". Returns 0, or
 * -ENAMETOOLONG when the tag would not fit (out then holds a truncated tag). */
int tag_expand(const char *tmpl, const char *event_type, const char *node_name, char out[FWD_TAG_MAX]);

#endif

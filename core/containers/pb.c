/* pb.c - reading protobuf wire format: fields one after another, nothing generated. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "containers_internal.h"

static int varint(struct pb_reader *r, uint64_t *out)
{
	uint64_t v = 0;
	int shift;

	for (shift = 0; shift < 64 && r->p < r->end; shift += 7) {
		uint8_t b = *r->p++;

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -EBADMSG;
}

int pb_next(struct pb_reader *r, struct pb_field *f)
{
	uint64_t key, len;

	if (r->p >= r->end)
		return 0;
	if (varint(r, &key) || key >> 3 == 0 || key >> 3 > UINT32_MAX)
		return -EBADMSG;
	memset(f, 0, sizeof(*f));
	f->num = (uint32_t)(key >> 3);
	f->wire = (uint32_t)(key & 7);
	switch (f->wire) {
	case 0:
		return varint(r, &f->v) ? -EBADMSG : 1;
	case 1:
		if (r->end - r->p < 8)
			return -EBADMSG;
		memcpy(&f->v, r->p, 8);
		r->p += 8;
		return 1;
	case 2:
		if (varint(r, &len) || len > (uint64_t)(r->end - r->p))
			return -EBADMSG;
		f->data = r->p;
		f->len = (size_t)len;
		r->p += len;
		return 1;
	case 5:
		if (r->end - r->p < 4)
			return -EBADMSG;
		memcpy(&f->v, r->p, 4);	/* little-endian hosts only, as the rest of vigil */
		r->p += 4;
		return 1;
	default:
		return -EBADMSG;	/* groups (3, 4) are not in proto3 */
	}
}

char *pb_strdup(const struct pb_field *f)
{
	char *s;

	if (f->wire != 2) {
		errno = EBADMSG;
		return NULL;
	}
	s = malloc(f->len + 1);
	if (!s)
		return NULL;
	memcpy(s, f->data, f->len);
	s[f->len] = '\0';
	return s;
}

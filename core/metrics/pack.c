/* pack.c - the rendered samples as a msgpack map, keyed by the sample's text
 * ("vigil_events_total{type=\"PROCESS_EXEC\",...}"), for `vigil status`. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_internal.h"

/* Walk the sample lines: key is the line up to the space before the value. */
static size_t each_sample(const struct vigil_buf *text, msgpack_packer *pk)
{
	const char *p = text->data, *end = text->data + text->len, *nl, *sp;
	size_t n = 0;
	double v;

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (p == nl || *p == '#')
			continue;
		sp = nl;
		while (sp > p && sp[-1] != ' ')
			sp--;
		if (sp <= p + 1)
			continue;
		n++;
		if (!pk)
			continue;
		msgpack_pack_str_with_body(pk, p, (size_t)(sp - 1 - p));
		v = strtod(sp, NULL);
		if (v >= 0 && v < 9007199254740992.0 && floor(v) == v)
			msgpack_pack_uint64(pk, (uint64_t)v);
		else
			msgpack_pack_double(pk, v);
	}
	return n;
}

int vigil_metrics__pack(struct vigil_metrics *m, msgpack_packer *pk)
{
	struct vigil_buf text = {0};
	/* vigil's own tools (status, top) read vigil's names, whatever /metrics serves */
	int err = metrics_render(m, &text, true, false);

	if (err || !text.data) {
		vigil_buf_free(&text);
		msgpack_pack_map(pk, 0);
		return err ? err : -ENOMEM;
	}
	msgpack_pack_map(pk, (uint32_t)each_sample(&text, NULL));
	each_sample(&text, pk);
	vigil_buf_free(&text);
	return 0;
}

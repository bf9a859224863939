/* fwd_reply_fuzz.c - libFuzzer target for what a Forward peer sends vigil-forward back
 * (plugins/fluentbit/reply.c): acks and HELO, parsed by a bounded scanner from a TCP
 * stream that any peer (or anything in the path) controls.
 *
 * The input is read as ship.c reads its receive buffer: replies are taken one after the
 * other while reply_next says a whole one is there. Properties besides memory safety: a
 * reply's length is inside the buffer and at most FWD_REPLY_MAX; an ack's chunk id lies
 * inside that reply; every strict prefix of a reply asks for more bytes (0), as it would
 * when the reply arrives split over two reads; nothing but 0, a length or -EBADMSG.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "reply.h"

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fwd_reply_fuzz: property violated: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	size_t left = size, cut;
	struct fwd_reply r, r2;
	int n, m;

	while (left) {
		n = reply_next(p, left, &r);
		check(n == 0 || n == -EBADMSG || (n > 0 && (size_t)n <= left && n <= FWD_REPLY_MAX), "bad return");
		if (n <= 0)
			break;
		check(r.kind == FWD_REPLY_ACK || r.kind == FWD_REPLY_HELO || r.kind == FWD_REPLY_OTHER, "bad kind");
		if (r.kind == FWD_REPLY_ACK)
			check((const unsigned char *)r.chunk >= p && (const unsigned char *)r.chunk + r.chunk_len <= p + n,
			      "ack chunk outside the reply");
		/* the same reply cut short, as a split read delivers it */
		cut = (size_t)p[0] % (size_t)n;
		m = reply_next(p, cut, &r2);
		check(m == 0, "a strict prefix of a reply is not 'need more'");
		p += n;
		left -= (size_t)n;
	}
	return 0;
}

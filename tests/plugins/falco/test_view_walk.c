/* test_view_walk.c - the plugin's one walk of an event (view.c) against libvigil's scan.
 *
 * next_batch validates each event with its own walk and hands the root's tail to the bus,
 * which reads the delivery stamp from it instead of scanning the message again
 * (vigil_sub__note). That is only sound if every message the walk accepts is one that
 * vigil_msgpack_scan_tail accepts too, with the same tail. Checked on the agent's events
 * (stamped) under random byte flips, overwrites and truncations, from a fixed seed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "falco_internal.h"
#include "testevents.h"

#define ROUNDS 200000

int main(void)
{
	struct vigil_buf ev[4] = { 0 };
	struct vigil_msgpack_tail walked, scanned;
	struct fp_view v = { 0 };	/* memo NULL: no key memo */
	unsigned char *m;
	long accepted = 0, refused_by_scan = 0, other_tail = 0, i;
	size_t len, pos;
	int k, flips;

	view_init();
	if (tev_exec(&ev[0], 4242, "/usr/bin/curl", "-s https://example.com/install.sh") ||
	    tev_exit(&ev[1], 4242, "/usr/bin/curl", 0, 0) ||
	    tev_kprobe(&ev[2], 4243, "/usr/bin/cat", "/etc/shadow", "10.0.0.7", 443) ||
	    tev_alert(&ev[3], 4244, "shell-in-container", "warning"))
		return 1;
	for (k = 0; k < 4; k++)
		if (vigil_bus_stamp(&ev[k], 0x1234, 77 + (uint64_t)k))
			return 1;
	srand(18);
	for (i = 0; i < ROUNDS; i++) {
		len = ev[i % 4].len;
		m = malloc(len + VIEW_PAD);
		if (!m)
			return 1;
		memcpy(m, ev[i % 4].data, len);
		memset(m + len, 0, VIEW_PAD);
		/* the first round of each event is unmutated: it must pass both */
		for (flips = i < 4 ? 0 : 1 + rand() % 3, k = 0; k < flips; k++) {
			pos = (size_t)rand() % len;
			switch (rand() % 3) {
			case 0:
				m[pos] = (unsigned char)rand();
				break;
			case 1:
				m[pos] ^= (unsigned char)(1u << (rand() % 8));
				break;
			default:
				len = 1 + pos;
			}
		}
		if (!view_build(&v, m, len, &walked)) {
			accepted++;
			if (vigil_msgpack_scan_tail(m, len, &scanned))
				refused_by_scan++;
			else if (walked.items != scanned.items || walked.len != scanned.len ||
				 memcmp(walked.start, scanned.start, sizeof(walked.start)))
				other_tail++;
		} else if (i < 4) {
			fprintf(stderr, "test_view_walk: the agent's own event %ld was refused\n", i);
			return 1;
		}
		free(m);
	}
	printf("test_view_walk: %d mutated events, %ld accepted by the walk: %ld of them refused by "
	       "libvigil's scan, %ld with another tail\n", ROUNDS, accepted, refused_by_scan, other_tail);
	for (k = 0; k < 4; k++)
		vigil_buf_free(&ev[k]);
	return accepted < ROUNDS / 10 || refused_by_scan || other_tail;
}

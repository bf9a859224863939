/* test_evtime.c - next_batch's event time (plugins/falco/evtime.c) against libvigil's
 * vigil_parse_time: the same strings accepted, the same nanoseconds, whatever the minute
 * the cache holds. Times within a few minutes, with random characters of them replaced,
 * lengths cut or grown, from a fixed seed, so the cached and the uncached paths both run
 * on good and bad input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "falco_internal.h"

#define ROUNDS 400000

int main(void)
{
	static const char *const base[] = {
		"2026-11-29T08:02:18.369395371Z", "2026-11-29T08:02:59Z", "2026-11-29T08:03:00.5Z",
		"2024-02-29T23:59:59.999999999Z", "2025-12-31T23:59:07.000001Z",
	};
	static const char alphabet[] = "0123456789:.-TZ9x";
	struct evtime_cache cache = { 0 };
	char s[48];
	uint64_t want, got;
	long accepted = 0, i;
	size_t n, pos;
	int rw, rg, k;

	srand(18);
	for (i = 0; i < ROUNDS; i++) {
		n = strlen(base[i % 5]);
		memcpy(s, base[i % 5], n + 1);
		for (k = i % 3 ? rand() % 3 : 0; k > 0 && n; k--) {
			pos = (size_t)rand() % n;
			if (rand() % 4)
				s[pos] = alphabet[rand() % (sizeof(alphabet) - 1)];
			else
				n = pos + (size_t)(rand() % 3);	/* cut, or one or two bytes more */
		}
		s[n] = '\0';
		want = got = 0;
		rw = vigil_parse_time(s, n, &want);
		rg = evtime_parse(&cache, s, n, &got);
		if (rw != rg || want != got) {
			fprintf(stderr, "test_evtime: '%s': vigil_parse_time %d (%llu), evtime_parse %d (%llu)\n", s, rw,
				(unsigned long long)want, rg, (unsigned long long)got);
			return 1;
		}
		accepted += !rw;
	}
	printf("test_evtime: %d times, %ld accepted, every one as vigil_parse_time takes it\n", ROUNDS, accepted);
	return accepted < ROUNDS / 4 || accepted == ROUNDS;
}

/* usdt_target [N] - fire the USDT probe vigiltest:probe2 (a 32-bit and a 64-bit argument)
 * N times (default 1), with arguments 40 + i and 0x1122334455667788. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/sdt.h>

int main(int argc, char **argv)
{
	int i, n = argc > 1 ? atoi(argv[1]) : 1;
	int64_t big = 0x1122334455667788LL;

	for (i = 0; i < n; i++) {
		int32_t small = 40 + i;

		DTRACE_PROBE2(vigiltest, probe2, small, big);
	}
	return 0;
}

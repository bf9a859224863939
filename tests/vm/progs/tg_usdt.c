/* tg_usdt - fire the USDT probe test:usdt3 (a 32-bit and a 64-bit argument: 7 and
 * 0x0102030405060708) once. Case 50 puts it where Tetragon's usdt.yaml example expects its own
 * tester program, so that policy loads unchanged and is triggered. */
#include <stdint.h>
#include <sys/sdt.h>

int main(void)
{
	int32_t small = 7;
	int64_t big = 0x0102030405060708LL;

	DTRACE_PROBE2(test, usdt3, small, big);
	return 0;
}

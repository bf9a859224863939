/* usdt_set_target - fire the USDT probe tetragon:test_4B (three 32-bit arguments, 1 2 3) once
 * and exit with the first argument's value as the probe left it: 1 unless a Set action wrote
 * it. The arguments live in memory (volatile), so the probe's note names a stack slot, the
 * place Set writes. host.usdt runs it; vm case 50 puts it where Tetragon's usdt-set.yaml expects its
 * tester. */
#include <stdint.h>
#include <stdio.h>
#include <sys/sdt.h>

int main(void)
{
	volatile int32_t a = 1, b = 2, c = 3;

	DTRACE_PROBE3(tetragon, test_4B, a, b, c);
	printf("%d\n", (int)a);
	return a;
}

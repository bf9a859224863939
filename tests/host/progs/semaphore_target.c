/* semaphore_target - print the USDT-style semaphore vigil_semaphore (a counter the kernel
 * raises while a uprobe with refCtrOffsets naming it is attached), then call
 * vigil_semaphore_probe, the function such a policy watches. The semaphore lives in its
 * own initialised section (SystemTap's .probes), so it has a file offset. */
#include <stdio.h>

__attribute__((section(".probes"), used)) volatile unsigned short vigil_semaphore = 0;

__attribute__((noinline)) int vigil_semaphore_probe(int armed)
{
	asm volatile("" ::"r"(armed) : "memory");
	return armed;
}

int main(void)
{
	int armed = vigil_semaphore;

	printf("%d\n", armed);
	return vigil_semaphore_probe(armed) < 0;
}

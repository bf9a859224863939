/* probe_fuzzer.c - configure-time check that clang can link a libFuzzer target. */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return 0;
}

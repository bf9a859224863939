/* fileid.c - the kernel's dev_t encoding of a file's device, as BPF programs read it from
 * super_block->s_dev, against user space's (stat's st_dev, glibc's makedev). */
#include <sys/sysmacros.h>

#include "events.h"

/* include/linux/kdev_t.h: MINORBITS is 20 */
#define KDEV_MINOR_BITS 20
#define KDEV_MINOR_MASK ((1u << KDEV_MINOR_BITS) - 1)

uint32_t vigil_dev_to_kernel(uint64_t st_dev)
{
	return (uint32_t)(major(st_dev) << KDEV_MINOR_BITS) | (minor(st_dev) & KDEV_MINOR_MASK);
}

uint64_t vigil_dev_from_kernel(uint32_t kdev)
{
	return makedev(kdev >> KDEV_MINOR_BITS, kdev & KDEV_MINOR_MASK);
}

/* capraise - raise the effective capability set to the permitted one with capset(2), as a
 * capability-aware program does after an exec that granted file capabilities (+p, not +e).
 * Exits 0 when capset succeeded. */
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return 1;
	data[0].effective = data[0].permitted;
	data[1].effective = data[1].permitted;
	return syscall(SYS_capset, &hdr, data) ? 1 : 0;
}

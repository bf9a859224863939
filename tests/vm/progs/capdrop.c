/* capdrop - keep only CAP_CHOWN in the effective set (permitted and inheritable unchanged)
 * with one capset(2), so an LSM capset hook sees a small, known effective mask. Exits 0 when
 * capset succeeded. */
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return 1;
	data[0].effective = 1u << CAP_CHOWN;
	data[1].effective = 0;
	return syscall(SYS_capset, &hdr, data) ? 1 : 0;
}

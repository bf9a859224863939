/* test_loader.c - unit tests for what core/loader does without the kernel's BPF: the
 * --keep-enforcing pin root's checks (pins.c) and the mechanism names (probe.c). Loading,
 * attaching and the probe itself need root and BPF: the host and vm lanes run them.
 *
 * The pin root lives under /sys/fs/bpf, which is world-writable: the agent must refuse a
 * root that is not a root-owned directory on bpffs, and must never remove "previous runs"
 * from a root it refused (someone else's directory, planted there first). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "loader/loader.h"

struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/vigil-loader-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char p[192];

	snprintf(p, sizeof(p), "%s/run-1", f->dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/file", f->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/link", f->dir);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* A root that is not a directory on bpffs owned by root: -EPERM for a non-directory or a
 * directory of another user, -ENOTSUP for root's own directory elsewhere (tmpfs). */
static bool refused(int err)
{
	return err == EPERM || err == ENOTSUP;
}

static void test_pins_refuse_a_root_that_is_not_a_private_bpffs_directory(void **state)
{
	struct fixture *f = *state;
	struct vigil_pins *p;
	int fd;

	/* a directory on tmpfs */
	errno = 0;
	assert_null(vigil_pins__open(f->dir, true));
	assert_true(refused(errno));
	/* a regular file */
	snprintf(f->path, sizeof(f->path), "%s/file", f->dir);
	fd = creat(f->path, 0600);
	assert_true(fd >= 0);
	close(fd);
	errno = 0;
	assert_null(vigil_pins__open(f->path, true));
	assert_int_equal(errno, EPERM);
	/* a symbolic link, even to a directory: followed, it could point anywhere */
	snprintf(f->path, sizeof(f->path), "%s/link", f->dir);
	assert_int_equal(symlink(f->dir, f->path), 0);
	errno = 0;
	assert_null(vigil_pins__open(f->path, true));
	assert_int_equal(errno, EPERM);
	/* a root whose parent is missing cannot be created */
	snprintf(f->path, sizeof(f->path), "%s/nosuch/pins", f->dir);
	errno = 0;
	assert_null(vigil_pins__open(f->path, true));
	assert_int_equal(errno, ENOENT);
	assert_int_equal(access(f->path, F_OK), -1);

	/* without keep nothing is pinned, so an unusable root is no error: no run directory */
	p = vigil_pins__open(f->dir, false);
	assert_non_null(p);
	assert_null(vigil_pins__run_dir(p));
	vigil_pins__remove_run(p);	/* nothing to remove */
	vigil_pins__close(p);
}

static void test_pins_never_remove_runs_from_a_refused_root(void **state)
{
	struct fixture *f = *state;
	struct vigil_pins *p;

	/* someone's directory that looks like a previous run's */
	snprintf(f->path, sizeof(f->path), "%s/run-1", f->dir);
	assert_int_equal(mkdir(f->path, 0700), 0);
	p = vigil_pins__open(f->dir, false);
	assert_non_null(p);
	assert_int_equal(vigil_pins__remove_previous(p), 0);
	assert_int_equal(access(f->path, F_OK), 0);
	vigil_pins__close(p);
	/* a missing root without keep: nothing to do, nothing created */
	snprintf(f->path, sizeof(f->path), "%s/absent", f->dir);
	p = vigil_pins__open(f->path, false);
	assert_non_null(p);
	assert_int_equal(vigil_pins__remove_previous(p), 0);
	assert_int_equal(access(f->path, F_OK), -1);
	vigil_pins__close(p);
	/* NULL is accepted where the agent may hold none */
	assert_int_equal(vigil_pins__remove_previous(NULL), 0);
	assert_null(vigil_pins__run_dir(NULL));
	vigil_pins__close(NULL);
}

static void test_mech_names_cover_every_mechanism_and_nothing_else(void **ctx)
{
	int m;

	(void)ctx;
	assert_string_equal(vigil_mech_name(VIGIL_MECH_TP_BTF), "tp_btf");
	assert_string_equal(vigil_mech_name(VIGIL_MECH_SEND_SIGNAL), "bpf_send_signal");
	for (m = 0; m < VIGIL_MECH_COUNT; m++) {
		assert_non_null(vigil_mech_name((enum vigil_mech)m));
		assert_string_not_equal(vigil_mech_name((enum vigil_mech)m), "unknown");
	}
	assert_string_equal(vigil_mech_name(VIGIL_MECH_COUNT), "unknown");
	assert_string_equal(vigil_mech_name((enum vigil_mech)-1), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pins_refuse_a_root_that_is_not_a_private_bpffs_directory, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pins_never_remove_runs_from_a_refused_root, setup, teardown),
		cmocka_unit_test(test_mech_names_cover_every_mechanism_and_nothing_else),
	};

	vigil_set_print(NULL);	/* the refusals are logged; expected here */
	return cmocka_run_group_tests(tests, NULL, NULL);
}

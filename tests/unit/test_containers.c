/* test_containers.c - unit tests for core/containers: the container id in the cgroup paths
 * of each runtime and cgroup driver, a process's cgroup line, and the resolver's answers
 * when the cgroup cannot be opened by its id. */
#include <errno.h>
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

#include "containers/containers.h"
#include "containers/containers_internal.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static void check_path(const char *path, const char *want)
{
	char out[VIGIL_CONTAINER_ID_MAX];
	size_t n;

	n = vigil_container_id_from_path(path, out);
	if (strcmp(out, want)) {
		print_error("path %s: want \"%s\", got \"%s\"\n", path, want, out);
		fail();
	}
	assert_int_equal(n, strlen(want));
}

/* ================================================================ systemd cgroup driver */

static void test_docker_systemd_scope(void **state)
{
	check_path("/system.slice/docker-" ID ".scope", ID);
}

static void test_containerd_kubepods_systemd_scope(void **state)
{
	check_path("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b2c3d4e_aaaa_bbbb_cccc_"
		   "0123456789ab.slice/cri-containerd-" ID ".scope",
		   ID);
}

static void test_crio_systemd_scope(void **state)
{
	check_path("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod11111111_2222_3333_4444_"
		   "555555555555.slice/crio-" ID ".scope",
		   ID);
}

static void test_podman_systemd_scope(void **state)
{
	check_path("/machine.slice/libpod-" ID ".scope", ID);
}

/* with a systemd inside, Podman runs the payload in a child cgroup of its scope */
static void test_podman_scope_child_cgroup(void **state)
{
	check_path("/machine.slice/libpod-" ID ".scope/container", ID);
}

static void test_podman_rootless_user_slice(void **state)
{
	check_path("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope", ID);
}

/* ================================================================ cgroupfs driver */

static void test_docker_cgroupfs(void **state)
{
	check_path("/docker/" ID, ID);
}

static void test_containerd_kubepods_cgroupfs(void **state)
{
	check_path("/kubepods/besteffort/pod1b2c3d4e-aaaa-bbbb-cccc-0123456789ab/" ID, ID);
}

static void test_containerd_namespace_cgroupfs(void **state)
{
	check_path("/k8s.io/" ID, ID);
}

static void test_podman_cgroupfs(void **state)
{
	check_path("/libpod_parent/libpod-" ID, ID);
}

static void test_crio_cgroupfs(void **state)
{
	check_path("/kubepods/burstable/pod1b2c3d4e-aaaa-bbbb-cccc-0123456789ab/crio-" ID, ID);
}

/* ================================================================ what is not a container */

static void test_host_cgroups_name_no_container(void **state)
{
	check_path("/", "");
	check_path("", "");
	check_path("/system.slice/ssh.service", "");
	check_path("/user.slice/user-0.slice/session-3.scope", "");
	check_path("/kubepods.slice/kubepods-besteffort.slice", "");
}

static void test_conmon_cgroups_name_no_container(void **state)
{
	check_path("/machine.slice/libpod-conmon-" ID ".scope", "");
	check_path("/system.slice/crio-conmon-" ID ".scope", "");
}

static void test_ids_must_be_64_lowercase_hex(void **state)
{
	check_path("/docker/0123456789abcdef", "");
	check_path("/docker/" ID "0", "");
	check_path("/docker/0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "");
	check_path("/system.slice/docker-" ID ".service", "");
	check_path("/system.slice/other-" ID ".scope", "");
}

/* a container started inside another: the innermost names the process's own */
static void test_nested_container_wins(void **state)
{
	check_path("/docker/" ID2 "/docker/" ID, ID);
	check_path("/docker/" ID "/init.scope", ID);
}

/* ================================================================ /proc and the resolver */

struct fake {
	char root[64];			/* a fake proc_root with pid 42's cgroup file */
	char mounts[96];
};

static int fake_setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	char path[160];
	FILE *fp;

	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "/tmp/vigil-test-containers-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(path, sizeof(path), "%s/42", f->root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/42/cgroup", f->root);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "4:memory:/docker/" ID2 "\n1:cpu:/\n0::/libpod_parent/libpod-" ID "\n");
	fclose(fp);
	/* a cgroup2 "mount" that is a plain directory, with a space escaped as /proc does */
	snprintf(path, sizeof(path), "%s/un ified", f->root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(f->mounts, sizeof(f->mounts), "%s/mounts", f->root);
	fp = fopen(f->mounts, "w");
	assert_non_null(fp);
	fprintf(fp, "tmpfs /sys/fs/cgroup tmpfs rw 0 0\ncgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\n"
		    "cgroup2 %s/un\\040ified cgroup2 rw 0 0\n", f->root);
	fclose(fp);
	*state = f;
	return 0;
}

static int fake_teardown(void **state)
{
	struct fake *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void test_cgroup_path_of_pid_reads_the_v2_line(void **state)
{
	struct fake *f = *state;
	char path[256];

	assert_int_equal(vigil_cgroup_path_of_pid(f->root, 42, path, sizeof(path)), 0);
	assert_string_equal(path, "/libpod_parent/libpod-" ID);
	assert_int_equal(vigil_cgroup_path_of_pid(f->root, 43, path, sizeof(path)), -ENOENT);
	assert_int_equal(vigil_cgroup_path_of_pid(f->root, 42, path, 10), -ENAMETOOLONG);
}

static void test_resolver_finds_the_v2_mount_unescaped(void **state)
{
	struct fake *f = *state;
	struct vigil_cgroups *cg = vigil_cgroups__new(f->mounts, f->root, 16);
	char want[96];

	assert_non_null(cg);
	snprintf(want, sizeof(want), "%s/un ified", f->root);
	assert_string_equal(vigil_cgroups__mount(cg), want);
	vigil_cgroups__free(cg);
}

/* the "mount" is no cgroupfs: no handle opens there, so the answer comes from the process,
 * and is not cached against the cgroup id (the process may move) */
static void test_resolver_falls_back_to_the_process_and_counts(void **state)
{
	struct fake *f = *state;
	struct vigil_cgroups *cg = vigil_cgroups__new(f->mounts, f->root, 16);
	struct vigil_cgroups_stats st;
	char out[VIGIL_CONTAINER_ID_MAX];

	assert_non_null(cg);
	assert_int_equal(vigil_cgroups__container_id(cg, 1234, 42, out), 64);
	assert_string_equal(out, ID);
	assert_int_equal(vigil_cgroups__container_id(cg, 1234, 43, out), 0);
	assert_string_equal(out, "");
	assert_int_equal(vigil_cgroups__container_id(cg, 0, 42, out), 64);
	vigil_cgroups__stats(cg, &st);
	assert_int_equal(st.lookups, 3);
	assert_int_equal(st.hits, 0);
	assert_int_equal(st.resolved, 2);
	assert_int_equal(st.unresolved, 1);
	assert_int_equal(st.containers, 0);
	vigil_cgroups__free(cg);
}

static void test_resolver_without_v2_mount_still_answers_by_pid(void **state)
{
	struct fake *f = *state;
	struct vigil_cgroups *cg = vigil_cgroups__new("/nonexistent/mounts", f->root, 0);
	char out[VIGIL_CONTAINER_ID_MAX], path[64];

	assert_non_null(cg);
	assert_null(vigil_cgroups__mount(cg));
	assert_int_equal(vigil_cgroups__path(cg, 1, path, sizeof(path)), -ENOENT);
	assert_int_equal(vigil_cgroups__container_id(cg, 99, 42, out), 64);
	assert_string_equal(out, ID);
	vigil_cgroups__free(cg);
}

/* ================================================================ protobuf */

static void test_pb_reads_varints_strings_and_fixed_fields(void **state)
{
	/* field 1 varint 300, field 2 "hi", field 3 fixed64 1, field 4 fixed32 2 */
	static const uint8_t msg[] = { 0x08, 0xac, 0x02, 0x12, 0x02, 'h', 'i', 0x19, 1, 0, 0, 0, 0, 0, 0, 0,
				       0x25, 2, 0, 0, 0 };
	struct pb_reader r = pb_reader_of(msg, sizeof(msg));
	struct pb_field f;
	char *s;

	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.num, 1);
	assert_int_equal(f.v, 300);
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.num, 2);
	s = pb_strdup(&f);
	assert_string_equal(s, "hi");
	free(s);
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.v, 1);
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.v, 2);
	assert_int_equal(pb_next(&r, &f), 0);
}

static void test_pb_refuses_truncated_and_bad_input(void **state)
{
	static const uint8_t cut_len[] = { 0x12, 0x05, 'h' };		/* 5 bytes announced, 1 there */
	static const uint8_t cut_varint[] = { 0x08, 0xff };
	static const uint8_t group[] = { 0x0b };			/* wire type 3 */
	static const uint8_t field0[] = { 0x00, 0x01 };
	const struct { const uint8_t *p; size_t n; } bad[] = {
		{ cut_len, sizeof(cut_len) }, { cut_varint, sizeof(cut_varint) }, { group, sizeof(group) },
		{ field0, sizeof(field0) },
	};
	struct pb_reader r;
	struct pb_field f;
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(bad); i++) {
		r = pb_reader_of(bad[i].p, bad[i].n);
		assert_int_equal(pb_next(&r, &f), -EBADMSG);
	}
}

/* ================================================================ CRI without a runtime */

static void test_cri_without_runtime_says_why_and_finds_nothing(void **state)
{
	struct vigil_cri_opts o = { .sz = sizeof(o), .endpoint = "unix:///nonexistent/cri.sock", .refresh_ms = 60000 };
	struct vigil_cri *cri = vigil_cri__new(&o);
	struct vigil_cri_status st;

	assert_non_null(cri);
	assert_int_equal(vigil_cri__refresh(cri), -ENOENT);
	assert_null(vigil_cri__get(cri, ID));
	vigil_cri__status(cri, &st);
	assert_false(st.connected);
	assert_non_null(strstr(st.error, "connect /nonexistent/cri.sock: No such file or directory"));
	assert_int_equal(st.unknown, 1);
	vigil_cri__free(cri);
	o.endpoint = "tcp://127.0.0.1:1";
	assert_null(vigil_cri__new(&o));
	assert_int_equal(errno, EINVAL);
}

/* ================================================================ runtime hooks */

static void check_oci(const char *in, int want_ret, const char *want)
{
	char out[4096];
	int ret = vigil_cgroup_path_of_oci(in, out, sizeof(out));

	if (ret != want_ret || (!ret && strcmp(out, want))) {
		print_error("cgroupsPath %s: want %d \"%s\", got %d \"%s\"\n", in, want_ret, want ? want : "", ret,
			    ret ? "" : out);
		fail();
	}
}

static void test_oci_cgroups_path_plain_and_systemd(void **state)
{
	(void)state;
	check_oci("/kubepods/besteffort/pod1/" ID, 0, "/kubepods/besteffort/pod1/" ID);
	check_oci("machine/ctr", 0, "/machine/ctr");
	check_oci("kubepods-besteffort-pod1.slice:cri-containerd:" ID, 0,
		  "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-" ID ".scope");
	check_oci("system.slice:docker:" ID, 0, "/system.slice/docker-" ID ".scope");
	check_oci("-.slice:crio:abc", 0, "/crio-abc.scope");
	check_oci("user.slice::inner.slice", 0, "/user.slice/inner.slice");
	check_oci("/a/../b", -EINVAL, NULL);
	check_oci("/a/..", -EINVAL, NULL);
	check_oci("nosuffix:crio:abc", -EINVAL, NULL);
	check_oci("a--b.slice:crio:abc", -EINVAL, NULL);
	check_oci("a.slice:crio", -EINVAL, NULL);
}

struct hook_dirs {
	char root[64];
	uint64_t id[3];
};

static void make_dirs(struct hook_dirs *d)
{
	char path[128];
	struct stat st;
	int i;

	snprintf(d->root, sizeof(d->root), "/tmp/vigil-rthooks-unit-XXXXXX");
	assert_non_null(mkdtemp(d->root));
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/c%d", d->root, i);
		assert_int_equal(mkdir(path, 0755), 0);
		assert_int_equal(stat(path, &st), 0);
		d->id[i] = st.st_ino;
	}
}

static bool supersede_all(void *ctx, const struct vigil_pod *pod)
{
	(void)pod;
	++*(int *)ctx;
	return true;
}

static void test_rthooks_bounded_replaced_evicted_superseded(void **state)
{
	static const struct vigil_pod_label labels[] = {{"app", "web"}};
	struct vigil_rthook e = { .cgroup_path = "/c0", .container_id = ID, .container_name = "app",
				  .pod_name = "web-1", .pod_namespace = "team-a", .runtime = "containerd",
				  .labels = labels, .nlabels = 1 };
	struct vigil_rthooks_stats st;
	const struct vigil_pod *held;
	struct vigil_rthooks *h;
	struct hook_dirs d;
	char path[128];
	int asked = 0, i;

	(void)state;
	make_dirs(&d);
	h = vigil_rthooks__new(d.root, 2);
	assert_non_null(h);
	assert_null(vigil_rthooks__get(h, d.id[0]));
	assert_int_equal(vigil_rthooks__add(h, d.id[0], &e), 0);
	e.pod_name = "web-2";
	assert_int_equal(vigil_rthooks__add(h, d.id[0], &e), 1);	/* the same cgroup: replaced */
	e.cgroup_path = "/c1";
	e.container_id = "";
	assert_int_equal(vigil_rthooks__add(h, d.id[1], &e), 0);
	e.cgroup_path = "/c2";
	assert_int_equal(vigil_rthooks__add(h, d.id[2], &e), -ENOSPC);	/* full, none gone */
	held = vigil_rthooks__get(h, d.id[0]);
	assert_non_null(held);
	assert_string_equal(held->namespace_, "team-a");
	assert_string_equal(held->name, "web-2");
	assert_string_equal(held->container_id, ID);
	assert_string_equal(held->runtime, "containerd");
	assert_int_equal(held->nlabels, 1);
	assert_string_equal(held->labels[0].value, "web");
	/* its cgroup goes: evicted, the pod held stays readable until put */
	snprintf(path, sizeof(path), "%s/c0", d.root);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(vigil_rthooks__prune(h, NULL, NULL), 1);
	assert_null(vigil_rthooks__get(h, d.id[0]));
	assert_string_equal(held->name, "web-2");
	vigil_pod__put(held);
	assert_int_equal(vigil_rthooks__add(h, d.id[2], &e), 0);
	/* entries without a container id are never superseded; the CRI cannot name them */
	assert_int_equal(vigil_rthooks__prune(h, supersede_all, &asked), 0);
	assert_int_equal(asked, 0);
	vigil_rthooks__stats(h, &st);
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.capacity, 2);
	assert_int_equal(st.added, 3);
	assert_int_equal(st.replaced, 1);
	assert_int_equal(st.evicted, 1);
	assert_int_equal(st.refused_full, 1);
	assert_int_equal(st.superseded, 0);
	vigil_rthooks__free(h);
	for (i = 1; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/c%d", d.root, i);
		rmdir(path);
	}
	rmdir(d.root);
}

static void test_rthooks_superseded_by_the_cri(void **state)
{
	struct vigil_rthook e = { .cgroup_path = "/c0", .container_id = ID, .pod_namespace = "ns" };
	struct vigil_rthooks_stats st;
	struct vigil_rthooks *h;
	struct hook_dirs d;
	char path[128];
	int asked = 0, i;

	(void)state;
	make_dirs(&d);
	h = vigil_rthooks__new(d.root, 0);
	assert_int_equal(vigil_rthooks__add(h, d.id[0], &e), 0);
	assert_int_equal(vigil_rthooks__prune(h, supersede_all, &asked), 1);
	assert_int_equal(asked, 1);
	vigil_rthooks__stats(h, &st);
	assert_int_equal(st.superseded, 1);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.capacity, 1024);
	vigil_rthooks__free(h);
	vigil_rthooks__free(NULL);
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/c%d", d.root, i);
		rmdir(path);
	}
	rmdir(d.root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docker_systemd_scope),
		cmocka_unit_test(test_containerd_kubepods_systemd_scope),
		cmocka_unit_test(test_crio_systemd_scope),
		cmocka_unit_test(test_podman_systemd_scope),
		cmocka_unit_test(test_podman_scope_child_cgroup),
		cmocka_unit_test(test_podman_rootless_user_slice),
		cmocka_unit_test(test_docker_cgroupfs),
		cmocka_unit_test(test_containerd_kubepods_cgroupfs),
		cmocka_unit_test(test_containerd_namespace_cgroupfs),
		cmocka_unit_test(test_podman_cgroupfs),
		cmocka_unit_test(test_crio_cgroupfs),
		cmocka_unit_test(test_host_cgroups_name_no_container),
		cmocka_unit_test(test_conmon_cgroups_name_no_container),
		cmocka_unit_test(test_ids_must_be_64_lowercase_hex),
		cmocka_unit_test(test_nested_container_wins),
		cmocka_unit_test(test_pb_reads_varints_strings_and_fixed_fields),
		cmocka_unit_test(test_pb_refuses_truncated_and_bad_input),
		cmocka_unit_test(test_cri_without_runtime_says_why_and_finds_nothing),
		cmocka_unit_test(test_oci_cgroups_path_plain_and_systemd),
		cmocka_unit_test(test_rthooks_bounded_replaced_evicted_superseded),
		cmocka_unit_test(test_rthooks_superseded_by_the_cri),
		cmocka_unit_test_setup_teardown(test_cgroup_path_of_pid_reads_the_v2_line, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_resolver_finds_the_v2_mount_unescaped, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_resolver_falls_back_to_the_process_and_counts, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_resolver_without_v2_mount_still_answers_by_pid, fake_setup,
						fake_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

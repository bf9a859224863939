/* test_decode_generic.c - unit tests for core/decode/decode_generic.c: a policy hook's record
 * (bpf/generic.h), the contract between the kernel side and user space, into a policy event.
 * Well-formed records of every argument class, and the malformed ones the reader must drop
 * and count instead of reading past the record. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "decode/decode.h"
#include "events/events.h"
#include "generic.h"
#include "pcache/pcache.h"
#include "policy/policy.h"

#define HOOK_ID 7

struct fixture {
	struct vigil_pcache *cache;
	struct vigil_decoder *dec;
	struct vigil_hook_info hook;
	struct vg_generic_record rec;
	size_t used;		/* bytes of rec.data filled */
};

static const struct vigil_hook_info *resolve(void *ctx, uint32_t hook_id)
{
	struct fixture *f = ctx;

	return hook_id == f->hook.id ? &f->hook : NULL;
}

static int setup(void **state)
{
	struct vigil_pcache_opts o = { .sz = sizeof(o), .node_name = "node" };
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->cache = vigil_pcache__new(&o);
	f->dec = vigil_decoder__new(f->cache, 0, "/nonexistent");
	if (!f->cache || !f->dec)
		return -1;
	vigil_decoder__set_hook_resolver(f->dec, resolve, f);
	f->hook = (struct vigil_hook_info){ .id = HOOK_ID, .type = VIGIL_EVENT_KPROBE, .policy_name = "p",
					    .function_name = "security_file_open" };
	f->rec.hdr.op = VIGIL_OP_GENERIC;
	f->rec.hdr.ktime = 1000;
	f->rec.pid = f->rec.tid = 4242;
	f->rec.proc_ktime = 99;
	f->rec.hook_id = HOOK_ID;
	f->rec.selector = VG_MAX_SELECTORS;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vigil_decoder__free(f->dec);
	vigil_pcache__free(f->cache);
	free(f);
	return 0;
}

/* Append an argument of `type` whose captured bytes are data[0..len) (integers: value). */
static void add_arg(struct fixture *f, int type, const void *data, size_t len, uint64_t value)
{
	uint32_t i = f->rec.nargs++;

	f->hook.args[f->hook.nargs++].type = type;
	f->rec.arg_off[i] = (uint16_t)f->used;
	f->rec.arg_len[i] = (uint16_t)len;
	f->rec.arg_int[i] = value;
	if (len)
		memcpy(f->rec.data + f->used, data, len);
	f->used += len;
}

static size_t rec_size(const struct fixture *f)
{
	return offsetof(struct vg_generic_record, data) + f->used;
}

static int decode(struct fixture *f, size_t size, struct vigil_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	f->rec.hdr.size = (uint32_t)size;
	return vigil_decoder__record(f->dec, &f->rec, size, ev);
}

static uint64_t bad_records(const struct fixture *f)
{
	struct vigil_decoder_stats st;

	vigil_decoder__stats(f->dec, &st);
	return st.bad_records;
}

static void test_int_string_and_path_arguments_decode(void **state)
{
	struct fixture *f = *state;
	unsigned char path[sizeof(struct vg_path_hdr) + 10];
	struct vg_path_hdr h = { .mode = 0100644, .flags = 2, .ino = 77 };
	struct vigil_event ev;

	memcpy(path, &h, sizeof(h));
	memcpy(path + sizeof(h), "/etc/shado", 10);
	add_arg(f, VIGIL_ARG_INT, NULL, 0, (uint64_t)-13);
	add_arg(f, VIGIL_ARG_STRING, "hello", 5, 0);
	add_arg(f, VIGIL_ARG_FILE, path, sizeof(path), 0);
	f->rec.arg_flags[2] = VG_ARGF_TRUNCATED;
	assert_int_equal(decode(f, rec_size(f), &ev), 1);
	assert_int_equal(ev.type, VIGIL_EVENT_KPROBE);
	assert_ptr_equal(ev.policy.hook, &f->hook);
	assert_int_equal(ev.policy.nargs, 3);
	assert_true(ev.policy.args[0].value == (uint64_t)-13);
	assert_int_equal(ev.policy.args[1].len, 5);
	assert_memory_equal(ev.policy.args[1].bytes, "hello", 5);
	assert_int_equal(ev.policy.args[2].mode, 0100644);
	assert_int_equal(ev.policy.args[2].file_flags, 2);
	assert_int_equal(ev.policy.args[2].len, 10);
	assert_memory_equal(ev.policy.args[2].bytes, "/etc/shado", 10);
	assert_true(ev.policy.args[2].flags & VIGIL_ARG_TRUNCATED);
	/* a process the cache never saw is a stand-in named by its pid */
	assert_non_null(ev.process);
	assert_int_equal(ev.process->pid, 4242);
}

static void test_strongest_action_and_monitor_mode(void **state)
{
	struct fixture *f = *state;
	struct vigil_event ev;

	f->rec.actions = 1u << VG_ACT_POST | 1u << VG_ACT_SIGNAL | 1u << VG_ACT_SIGKILL;
	assert_int_equal(decode(f, rec_size(f), &ev), 1);
	assert_int_equal(ev.policy.action, VIGIL_EVENT_ACTION_SIGKILL);
	assert_false(ev.policy.monitored);
	f->rec.actions = 1u << VG_ACT_POST;
	f->rec.monitored = 1u << VG_ACT_OVERRIDE;
	assert_int_equal(decode(f, rec_size(f), &ev), 1);
	assert_int_equal(ev.policy.action, VIGIL_EVENT_ACTION_OVERRIDE);
	assert_true(ev.policy.monitored);
}

static void test_return_value_and_return_action(void **state)
{
	struct fixture *f = *state;
	struct vigil_event ev;

	f->hook.return_type = VIGIL_ARG_INT;
	f->rec.has_ret = 1;
	f->rec.ret_value = (uint64_t)-1;
	assert_int_equal(decode(f, rec_size(f), &ev), 1);
	assert_true(ev.policy.has_return);
	assert_int_equal(ev.policy.ret.type, VIGIL_ARG_INT);
	assert_true(ev.policy.ret.value == (uint64_t)-1);
	assert_int_equal(ev.policy.return_action, VIGIL_EVENT_ACTION_POST);
}

static void test_unknown_hook_is_dropped_and_counted_apart(void **state)
{
	struct fixture *f = *state;
	struct vigil_decoder_stats st;
	struct vigil_event ev;

	f->rec.hook_id = HOOK_ID + 1;
	assert_int_equal(decode(f, rec_size(f), &ev), 0);
	vigil_decoder__stats(f->dec, &st);
	assert_int_equal(st.unknown_hook, 1);
	assert_int_equal(st.dropped[VIGIL_DROPPED_UNKNOWN_HOOK], 1);
	assert_int_equal(st.bad_records, 0);
}

static void test_records_cut_short_or_too_long_are_bad(void **state)
{
	struct fixture *f = *state;
	struct vigil_event ev;

	assert_true(decode(f, offsetof(struct vg_generic_record, data) - 1, &ev) <= 0);
	assert_true(decode(f, sizeof(f->rec) + 1, &ev) <= 0);
	assert_int_equal(bad_records(f), 2);
}

static void test_argument_counts_the_hook_does_not_have_are_bad(void **state)
{
	struct fixture *f = *state;
	struct vigil_event ev;

	add_arg(f, VIGIL_ARG_INT, NULL, 0, 1);
	f->rec.nargs = 2;		/* the hook declares one */
	assert_true(decode(f, rec_size(f), &ev) <= 0);
	f->rec.nargs = VG_MAX_ARGS + 1;
	assert_true(decode(f, rec_size(f), &ev) <= 0);
	assert_int_equal(bad_records(f), 2);
}

static void test_argument_bytes_past_the_record_are_bad(void **state)
{
	struct fixture *f = *state;
	struct vigil_event ev;

	add_arg(f, VIGIL_ARG_STRING, "abcdef", 6, 0);
	/* the record ends two bytes into the string */
	assert_true(decode(f, rec_size(f) - 4, &ev) <= 0);
	f->rec.arg_off[0] = 0xfff0;
	assert_true(decode(f, rec_size(f), &ev) <= 0);
	assert_int_equal(bad_records(f), 2);
}

static void test_short_struct_arguments_are_bad_unless_the_kernel_said_error(void **state)
{
	struct fixture *f = *state;
	unsigned char few[4] = { 0 };
	struct vigil_event ev;

	add_arg(f, VIGIL_ARG_SOCK, few, sizeof(few), 0);
	assert_true(decode(f, rec_size(f), &ev) <= 0);
	assert_int_equal(bad_records(f), 1);
	f->rec.arg_flags[0] = VG_ARGF_ERROR;
	assert_int_equal(decode(f, rec_size(f), &ev), 1);
	assert_true(ev.policy.args[0].flags & VIGIL_ARG_ERROR);
}

static void test_skb_decodes_its_tuple_and_packet_fields(void **state)
{
	struct fixture *f = *state;
	struct vg_skb skb = { .tuple = { .family = 2, .protocol = 17, .mark = 3, .priority = 4,
					 .saddr = { 127, 0, 0, 1 }, .daddr = { 127, 0, 0, 2 }, .sport = 1000, .dport = 53 },
			      .hash = 11, .len = 70, .secpath_len = 1, .secpath_olen = 2 };
	struct vigil_event ev;

	add_arg(f, VIGIL_ARG_SKB, &skb, sizeof(skb), 0);
	assert_int_equal(decode(f, rec_size(f), &ev), 1);
	assert_int_equal(ev.policy.args[0].sock.family, 2);
	assert_int_equal(ev.policy.args[0].sock.protocol, 17);
	assert_int_equal(ev.policy.args[0].sock.dport, 53);
	assert_int_equal(ev.policy.args[0].sock.daddr[3], 2);
	assert_int_equal(ev.policy.args[0].skb.len, 70);
	assert_int_equal(ev.policy.args[0].skb.hash, 11);
	assert_int_equal(ev.policy.args[0].skb.secpath_olen, 2);
	/* a short skb is malformed, as a short sock */
	f->rec.arg_len[0] = sizeof(struct vg_sock);
	assert_true(decode(f, rec_size(f), &ev) <= 0);
	assert_int_equal(bad_records(f), 1);
}

/* a sock returnArg: its vg_sock is the last ret_len bytes of the data */
static void test_returned_sock_is_read_from_the_end_of_the_data(void **state)
{
	struct fixture *f = *state;
	struct vg_sock sk = { .family = 2, .state = 1, .sport = 8331, .dport = 50000 };
	struct vigil_event ev;

	f->hook.return_type = VIGIL_ARG_SOCK;
	add_arg(f, VIGIL_ARG_INT, NULL, 0, 5);
	memcpy(f->rec.data + f->used, &sk, sizeof(sk));
	f->used += sizeof(sk);
	f->rec.has_ret = 1;
	f->rec.ret_len = sizeof(sk);
	assert_int_equal(decode(f, rec_size(f), &ev), 1);
	assert_true(ev.policy.has_return);
	assert_int_equal(ev.policy.ret.type, VIGIL_ARG_SOCK);
	assert_int_equal(ev.policy.ret.sock.sport, 8331);
	assert_int_equal(ev.policy.ret.sock.dport, 50000);
	/* no room was left for it: a return without fields, not a bad record */
	f->rec.ret_len = 0;
	assert_int_equal(decode(f, rec_size(f), &ev), 1);
	assert_int_equal(ev.policy.ret.sock.sport, 0);
	/* a length that is not a vg_sock is malformed */
	f->rec.ret_len = 7;
	assert_true(decode(f, rec_size(f), &ev) <= 0);
	assert_int_equal(bad_records(f), 1);
}

/* imaHash: the kernel's struct vg_ima ends the data; the event says "algo:hex" */
static void test_ima_hash_is_read_from_the_end_of_the_data(void **state)
{
	struct fixture *f = *state;
	struct vg_ima ima = { .algo = 4 };	/* HASH_ALGO_SHA256 */
	struct vigil_event ev;
	size_t i;

	for (i = 0; i < 32; i++)
		ima.digest[i] = (uint8_t)i;
	add_arg(f, VIGIL_ARG_INT, NULL, 0, 5);
	memcpy(f->rec.data + f->used, &ima, sizeof(ima));
	f->used += sizeof(ima);
	f->rec.has_ima = 1;
	assert_int_equal(decode(f, rec_size(f), &ev), 1);
	assert_string_equal(ev.policy.ima_hash,
			    "sha256:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
	/* the kernel could not hash the file (a negative errno): no ima_hash, not a bad record */
	ima.algo = -95;
	memcpy(f->rec.data + f->used - sizeof(ima), &ima, sizeof(ima));
	assert_int_equal(decode(f, rec_size(f), &ev), 1);
	assert_null(ev.policy.ima_hash);
	/* a record too short to hold one is malformed */
	f->used = 0;
	f->rec.arg_off[0] = 0;
	assert_true(decode(f, rec_size(f) + 8, &ev) <= 0);
	assert_int_equal(bad_records(f), 1);
}

static void test_path_shorter_than_its_header_is_an_unreadable_argument(void **state)
{
	struct fixture *f = *state;
	struct vigil_event ev;

	add_arg(f, VIGIL_ARG_PATH, "abc", 3, 0);
	assert_int_equal(decode(f, rec_size(f), &ev), 1);
	assert_true(ev.policy.args[0].flags & VIGIL_ARG_ERROR);
	assert_int_equal(ev.policy.args[0].len, 0);
}

/* Put n kernel then m user addresses after the arguments, as bpf/lib/stacks.h does. */
static void add_stacks(struct fixture *f, const uint64_t *addrs, size_t nk, size_t nu)
{
	f->used = (f->used + 7) & ~(size_t)7;
	f->rec.stack_off = (uint16_t)f->used;
	f->rec.kstack_len = (uint16_t)(nk * 8);
	f->rec.ustack_len = (uint16_t)(nu * 8);
	memcpy(f->rec.data + f->used, addrs, (nk + nu) * 8);
	f->used += (nk + nu) * 8;
}

static void test_kernel_stack_is_named_from_kallsyms(void **state)
{
	static const char kallsyms[] = "ffffffff81000000 T _stext\n"
				       "ffffffff81001000 T do_syscall_64\n"
				       "ffffffff81002000 D some_data\n"
				       "ffffffffc0000000 t helper\t[mymod]\n";
	const uint64_t addrs[] = { 0xffffffff81001010ULL, 0xffffffffc0000004ULL, 0x1000 };
	struct fixture *f = *state;
	struct vigil_event ev;
	int fd = memfd_create("kallsyms", 0);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, kallsyms, sizeof(kallsyms) - 1), (ssize_t)sizeof(kallsyms) - 1);
	vigil_decoder__set_kallsyms(f->dec, fd);	/* the decoder reads it from the start */
	add_arg(f, VIGIL_ARG_STRING, "abc", 3, 0);
	add_stacks(f, addrs, 3, 0);
	assert_int_equal(decode(f, rec_size(f), &ev), 1);
	assert_int_equal(ev.policy.nkernel_stack, 3);
	assert_int_equal(ev.policy.nuser_stack, 0);
	assert_string_equal(ev.policy.kernel_stack[0].symbol, "do_syscall_64");
	assert_int_equal(ev.policy.kernel_stack[0].offset, 0x10);
	assert_null(ev.policy.kernel_stack[0].module);
	assert_string_equal(ev.policy.kernel_stack[1].symbol, "helper");
	assert_int_equal(ev.policy.kernel_stack[1].offset, 4);
	assert_string_equal(ev.policy.kernel_stack[1].module, "mymod");
	assert_null(ev.policy.kernel_stack[2].symbol);	/* below every symbol */
	assert_int_equal(ev.policy.kernel_stack[2].address, 0x1000);
}

static void test_stacks_past_the_record_or_not_whole_frames_are_bad(void **state)
{
	const uint64_t addrs[] = { 1, 2 };
	struct fixture *f = *state;
	struct vigil_event ev;

	add_stacks(f, addrs, 1, 1);
	assert_true(decode(f, rec_size(f) - 8, &ev) <= 0);	/* the user frame is cut */
	f->rec.ustack_len = 4;
	assert_true(decode(f, rec_size(f), &ev) <= 0);
	assert_int_equal(bad_records(f), 2);
	/* a process gone: user frames keep their addresses, no names */
	f->rec.ustack_len = 8;
	f->rec.pid = 0x7ffffff0;
	assert_int_equal(decode(f, rec_size(f), &ev), 1);
	assert_int_equal(ev.policy.nuser_stack, 1);
	assert_int_equal(ev.policy.user_stack[0].address, 2);
	assert_null(ev.policy.user_stack[0].symbol);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

/* maxData: chunk records ahead of the event, in order */
static int send_chunk(struct fixture *f, uint32_t slot, uint32_t off, const char *bytes, uint32_t len)
{
	static struct vg_chunk_record c;
	struct vigil_event ev;
	size_t size = offsetof(struct vg_chunk_record, data) + len;

	memset(&c, 0, offsetof(struct vg_chunk_record, data));
	c.hdr.op = VIGIL_OP_GENERIC_CHUNK;
	c.hdr.size = (uint32_t)size;
	c.hdr.ktime = f->rec.hdr.ktime;
	c.tid = f->rec.tid;
	c.slot = slot;
	c.event_ktime = f->rec.hdr.ktime;
	c.offset = off;
	c.len = len;
	memcpy(c.data, bytes + off, len);
	return vigil_decoder__record(f->dec, &c, size, &ev);
}

static uint64_t truncated_args(const struct fixture *f)
{
	struct vigil_decoder_stats st;

	vigil_decoder__stats(f->dec, &st);
	return st.degraded[VIGIL_DEGRADED_ARG_TRUNCATED];
}

static void test_max_data_chunks_make_the_argument_whole(void **state)
{
	struct fixture *f = *state;
	static char big[3 * VG_CHUNK_MAX - 100];
	struct vigil_event ev;
	uint32_t off;
	size_t i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	add_arg(f, VIGIL_ARG_CHAR_BUF, big, 4095, 0);
	f->rec.arg_full[0] = sizeof(big);
	f->rec.arg_orig[0] = sizeof(big);
	for (off = 0; off < sizeof(big); off += VG_CHUNK_MAX)
		assert_int_equal(send_chunk(f, 0, off, big, sizeof(big) - off < VG_CHUNK_MAX ? sizeof(big) - off : VG_CHUNK_MAX),
				 0);
	assert_int_equal(decode(f, rec_size(f), &ev), 1);
	assert_int_equal(ev.policy.args[0].len, sizeof(big));
	assert_memory_equal(ev.policy.args[0].bytes, big, sizeof(big));
	assert_false(ev.policy.args[0].flags & VIGIL_ARG_TRUNCATED);
	assert_int_equal(truncated_args(f), 0);
}

static void test_max_data_with_a_lost_chunk_is_truncated_and_counted(void **state)
{
	struct fixture *f = *state;
	static char big[3 * VG_CHUNK_MAX];
	struct vigil_event ev;

	memset(big, 'x', sizeof(big));
	add_arg(f, VIGIL_ARG_CHAR_BUF, big, 4095, 0);
	f->rec.arg_full[0] = sizeof(big);
	f->rec.arg_orig[0] = sizeof(big);
	assert_int_equal(send_chunk(f, 0, 0, big, VG_CHUNK_MAX), 0);
	assert_int_equal(send_chunk(f, 0, 2 * VG_CHUNK_MAX, big, VG_CHUNK_MAX), 0);	/* the middle one lost */
	assert_int_equal(decode(f, rec_size(f), &ev), 1);
	assert_int_equal(ev.policy.args[0].len, 4095);
	assert_true(ev.policy.args[0].flags & VIGIL_ARG_TRUNCATED);
	assert_int_equal(ev.policy.args[0].orig_len, sizeof(big));
	assert_int_equal(truncated_args(f), 1);
}

static void test_chunk_past_the_limit_is_malformed(void **state)
{
	struct fixture *f = *state;
	static char big[VG_MAX_DATA_BYTES + VG_CHUNK_MAX];

	assert_int_equal(send_chunk(f, 0, VG_MAX_DATA_BYTES - 10, big, 100), -EBADMSG);
	assert_int_equal(bad_records(f), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_int_string_and_path_arguments_decode),
		T(test_max_data_chunks_make_the_argument_whole),
		T(test_max_data_with_a_lost_chunk_is_truncated_and_counted),
		T(test_chunk_past_the_limit_is_malformed),
		T(test_strongest_action_and_monitor_mode),
		T(test_return_value_and_return_action),
		T(test_unknown_hook_is_dropped_and_counted_apart),
		T(test_records_cut_short_or_too_long_are_bad),
		T(test_argument_counts_the_hook_does_not_have_are_bad),
		T(test_argument_bytes_past_the_record_are_bad),
		T(test_short_struct_arguments_are_bad_unless_the_kernel_said_error),
		T(test_path_shorter_than_its_header_is_an_unreadable_argument),
		T(test_skb_decodes_its_tuple_and_packet_fields),
		T(test_returned_sock_is_read_from_the_end_of_the_data),
		T(test_ima_hash_is_read_from_the_end_of_the_data),
		T(test_kernel_stack_is_named_from_kallsyms),
		T(test_stacks_past_the_record_or_not_whole_frames_are_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

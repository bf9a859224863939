/* print_policies.c - loaded policies as text: shared by `vigil status` and `vigil tp list`. */
#include <msgpack.h>
#include <stdio.h>

#include "cli.h"
#include "encode/encode.h"

static void put(const msgpack_object *o)
{
	if (o && o->type == MSGPACK_OBJECT_STR)
		printf("%.*s", (int)o->via.str.size, o->via.str.ptr);
}

/* tetra's HumanizeByteCount: powers of 1000, two decimals ("4.46 MB"), "N B" below 1000 */
void cli_humanize_bytes(uint64_t b, char *out, size_t size)
{
	uint64_t div = 1000;
	int exp = 0;

	if (b < 1000) {
		snprintf(out, size, "%llu B", (unsigned long long)b);
		return;
	}
	for (uint64_t n = b / 1000; n >= 1000 && exp < 5; n /= 1000) {
		div *= 1000;
		exp++;
	}
	snprintf(out, size, "%.2f %cB", (double)b / (double)div, "kMGTPE"[exp]);
}

void cli_print_policies(const msgpack_object *policies)
{
	uint32_t i, j;

	if (!policies || policies->type != MSGPACK_OBJECT_ARRAY || !policies->via.array.size) {
		printf("no policies loaded\n");
		return;
	}
	for (i = 0; i < policies->via.array.size; i++) {
		const msgpack_object *p = &policies->via.array.ptr[i];
		const msgpack_object *hooks = vigil_msgpack_get(p, "hooks"), *ev = vigil_msgpack_get(p, "events");
		const msgpack_object *mem = vigil_msgpack_get(p, "kernel_memory_bytes");
		char human[32];

		put(vigil_msgpack_get(p, "name"));
		printf("  state=");
		put(vigil_msgpack_get(p, "state"));
		printf(" mode=");
		put(vigil_msgpack_get(p, "mode"));
		printf(" events=%llu", ev && ev->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (unsigned long long)ev->via.u64 : 0ULL);
		if (mem && mem->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
			cli_humanize_bytes(mem->via.u64, human, sizeof(human));
			printf(" kernel_memory=%s", human);
		}
		printf("\n");
		for (j = 0; hooks && hooks->type == MSGPACK_OBJECT_ARRAY && j < hooks->via.array.size; j++) {
			const msgpack_object *h = &hooks->via.array.ptr[j];
			const msgpack_object *att = vigil_msgpack_get(h, "attached"), *note = vigil_msgpack_get(h, "note");

			printf("    ");
			put(vigil_msgpack_get(h, "hook"));
			printf(" via ");
			put(vigil_msgpack_get(h, "mechanism"));
			printf(" [%s]", att && att->type == MSGPACK_OBJECT_BOOLEAN && att->via.boolean ? "attached" : "detached");
			if (note) {
				printf(" note: ");
				put(note);
			}
			printf("\n");
		}
	}
}

/* The policy directory's watch and the files whose current content was refused (the policy
 * loaded from an earlier version keeps running). */
void cli_print_policy_dir(const msgpack_object *dir)
{
	const msgpack_object *path = vigil_msgpack_get(dir, "path"), *watching = vigil_msgpack_get(dir, "watching");
	const msgpack_object *reason = vigil_msgpack_get(dir, "reason"), *refused = vigil_msgpack_get(dir, "refused");
	uint32_t i;

	if (!path || path->type != MSGPACK_OBJECT_STR || !path->via.str.size)
		return;
	printf("policy directory ");
	put(path);
	printf(watching && watching->type == MSGPACK_OBJECT_BOOLEAN && watching->via.boolean ? " (watched)\n"
											: " (not watched)\n");
	if (reason) {
		printf("  refused: ");
		put(reason);
		printf("\n");
	}
	for (i = 0; refused && refused->type == MSGPACK_OBJECT_ARRAY && i < refused->via.array.size; i++) {
		const msgpack_object *f = &refused->via.array.ptr[i], *running = vigil_msgpack_get(f, "running");

		printf("  ");
		put(vigil_msgpack_get(f, "file"));
		printf(" refused: ");
		put(vigil_msgpack_get(f, "reason"));
		if (running && running->type == MSGPACK_OBJECT_STR && running->via.str.size) {
			printf(" (still running: ");
			put(running);
			printf(")");
		}
		printf("\n");
	}
}

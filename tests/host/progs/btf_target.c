/* btf_target CODE NAME TAG - call vigil_btf_target() once with a request whose fields hold
 * the arguments: a user function taking a struct pointer, for uprobes that resolve fields
 * through btfPath (a BTF file pahole makes from this binary's DWARF). */
#include <stdio.h>
#include <stdlib.h>

struct vigil_btf_inner {
	long code;
	char tag[16];
};

struct vigil_btf_req {
	int id;
	struct vigil_btf_inner *inner;
	const char *name;
};

__attribute__((noinline)) int vigil_btf_target(struct vigil_btf_req *r)
{
	/* keep the call and its argument: the probe reads it from the register */
	asm volatile("" ::"r"(r) : "memory");
	return r->id + (int)r->inner->code;
}

int main(int argc, char **argv)
{
	struct vigil_btf_inner inner = { .code = argc > 1 ? atol(argv[1]) : 0 };
	struct vigil_btf_req req = { .id = 7, .inner = &inner, .name = argc > 2 ? argv[2] : "" };

	snprintf(inner.tag, sizeof(inner.tag), "%s", argc > 3 ? argv[3] : "");
	return vigil_btf_target(&req) == -1;
}

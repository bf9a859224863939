/* osquery_codec_fuzz.c - libFuzzer target for vigil.ext's bytes-in code: the Thrift
 * request parser (what any local process can send the extension's socket), the reply
 * parsers (what the extension manager sends back), and the generate-context reader.
 *
 * Each input is parsed as a stream would deliver it: whole, and cut at every point a
 * first byte chooses, as the transport re-parses a message that arrives in pieces. The
 * properties checked besides memory safety: a prefix of an accepted message is never
 * malformed (-EAGAIN only), and an accepted message reports a length inside the input.
 *
 * Built with clang -fsanitize=fuzzer when VIGIL_FUZZ is on; replay.c's main() runs the
 * corpus through it in the normal builds (tests/fuzz/CMakeLists.txt).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "constraints.h"
#include "wire.h"

/* Small, so that the size checks are reached by small inputs too. */
#define LIMIT 4096

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "osquery_codec_fuzz: property violated: %s\n", what);
		abort();
	}
}

static void fuzz_request(const uint8_t *data, size_t size, size_t cut)
{
	struct osq_request req;
	size_t used = 0, i;
	int err = osq_request_parse(data, size, LIMIT, &req, &used);

	check(err == 0 || err == -EAGAIN || err == -EBADMSG || err == -EMSGSIZE, "request: unexpected error");
	if (err)
		return;
	check(used > 0 && used <= size, "request: length outside the input");
	for (i = 0; i < req.npairs; i++)
		check(req.pairs[i].key.p >= (const char *)data &&
		      req.pairs[i].value.p + req.pairs[i].value.n <= (const char *)data + size,
		      "request: slice outside the input");
	/* the same message cut short must only ask for more */
	if (cut < used)
		check(osq_request_parse(data, cut, LIMIT, &req, &used) == -EAGAIN, "request: prefix not -EAGAIN");
}

static void fuzz_replies(const uint8_t *data, size_t size)
{
	struct osq_status st;
	bool found;
	size_t used;

	osq_status_reply_parse(data, size, LIMIT, "registerExtension", 1, &st, &used);
	check(memchr(st.message, '\0', sizeof(st.message)) != NULL, "status: message not terminated");
	osq_extensions_reply_parse(data, size, LIMIT, 1, 42, &found, &used);
}

static void fuzz_context(const uint8_t *data, size_t size)
{
	struct osq_constraints c;

	if (osq_constraints_parse((const char *)data, size, &c))
		check(c.npids == 0 && osq_constraints_pass(&c, true, 1, 1), "context: an error left constraints");
	check(c.npids <= OSQ_MAX_PIDS, "context: too many pids");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cut = size ? data[0] % (size + 1) : 0;

	fuzz_request(data, size, cut);
	fuzz_replies(data, size);
	fuzz_context(data, size);
	return 0;
}

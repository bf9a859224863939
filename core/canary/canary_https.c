/* canary_https.c - GetUrl over https: one GET through libcurl (OpenSSL), the server's
 * certificate verified against the system's CA store, or against the one CA file the agent
 * was told to trust instead (--get-url-ca-file). Verification is never switched off: a
 * server vigil cannot verify gets no request, and the failure is counted and logged.
 *
 * libcurl is loaded on the first https GetUrl, not linked: linked, it and the two dozen
 * libraries it needs (two TLS stacks, Kerberos, LDAP, SSH) cost every agent ~7 MiB
 * resident from start-up, for a selector action few policies use. The package still
 * depends on it (cmake/VigilPackage.cmake). */
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "canary_internal.h"
#include "common/common.h"

#define BODY_MAX (64 * 1024)	/* read at most this much of an answer, then hang up */

#define LIBCURL "libcurl.so.4"

/* The libcurl calls this file makes, from the library once loaded. */
static struct {
	CURLcode (*global_init)(long);
	CURL *(*init)(void);
	CURLcode (*setopt)(CURL *, CURLoption, ...);
	CURLcode (*perform)(CURL *);
	CURLcode (*getinfo)(CURL *, CURLINFO, ...);
	void (*cleanup)(CURL *);
	const char *(*strerror)(CURLcode);
	bool ok;
} curl;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

/* POSIX's way to a function from dlsym: through the pointer's own storage. */
#define CURL_SYM(lib, field, name) (*(void **)&curl.field = dlsym((lib), (name)))

static void curl_load(void)
{
	void *lib = dlopen(LIBCURL, RTLD_NOW | RTLD_LOCAL);

	if (!lib) {
		pr_warn("canary: https GetUrl needs %s: %s", LIBCURL, dlerror());
		return;
	}
	curl.ok = CURL_SYM(lib, global_init, "curl_global_init") && CURL_SYM(lib, init, "curl_easy_init") && CURL_SYM(lib, setopt, "curl_easy_setopt") &&
		  CURL_SYM(lib, perform, "curl_easy_perform") && CURL_SYM(lib, getinfo, "curl_easy_getinfo") &&
		  CURL_SYM(lib, cleanup, "curl_easy_cleanup") && CURL_SYM(lib, strerror, "curl_easy_strerror");
	if (!curl.ok) {
		pr_warn("canary: %s lacks a curl_ function: %s", LIBCURL, dlerror());
		return;
	}
	/* once, on the canary worker, the one thread that uses libcurl; libcurl stays loaded
	 * and initialised for the agent's life */
	if (curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		pr_warn("canary: curl_global_init failed: https GetUrl makes no request");
		curl.ok = false;
	}
}

struct body {
	size_t got;
};

/* The answer's body is not wanted; reading a little of it lets small answers finish
 * cleanly, and a server that streams forever is cut at BODY_MAX. */
static size_t discard(char *data, size_t size, size_t n, void *ctx)
{
	struct body *b = ctx;

	(void)data;
	b->got += size * n;
	return b->got > BODY_MAX ? 0 : size * n;
}

static bool tls_verification(CURLcode rc)
{
	return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
	       rc == CURLE_SSL_ISSUER_ERROR || rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH;
}

int canary_https_get(const char *url, int timeout_ms, const char *ca_file)
{
	struct body b = {0};
	long status = 0;
	CURLcode rc;
	CURL *h;
	int err = 0;

	if (strncmp(url, "https://", 8))
		return -EINVAL;
	pthread_once(&curl_once, curl_load);
	if (!curl.ok)
		return -ENOSYS;
	h = curl.init();
	if (!h)
		return -ENOMEM;
	/* https only, no redirects (a redirect could lead anywhere, http included); the
	 * worker thread owns no signal handlers: no SIGALRM for name lookups */
	rc = curl.setopt(h, CURLOPT_URL, url);
	if (rc == CURLE_OK)
		rc = curl.setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	if (rc == CURLE_OK)
		rc = curl.setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	if (rc == CURLE_OK)
		rc = curl.setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (rc == CURLE_OK)
		rc = curl.setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	if (rc == CURLE_OK)
		rc = curl.setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	if (rc == CURLE_OK)
		rc = curl.setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (rc == CURLE_OK && ca_file)
		rc = curl.setopt(h, CURLOPT_CAINFO, ca_file);
	if (rc == CURLE_OK)
		rc = curl.setopt(h, CURLOPT_USERAGENT, "vigil");
	if (rc == CURLE_OK)
		rc = curl.setopt(h, CURLOPT_WRITEFUNCTION, discard);
	if (rc == CURLE_OK)
		rc = curl.setopt(h, CURLOPT_WRITEDATA, &b);
	if (rc != CURLE_OK) {
		err = -EINVAL;
		goto out;
	}
	rc = curl.perform(h);
	curl.getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	/* an answer came back (a status line): the GET was made, whatever the body did */
	if (status > 0)
		goto out;
	if (tls_verification(rc)) {
		pr_warn("canary: GET %s: the server's certificate did not verify (%s): no request made", url,
			curl.strerror(rc));
		err = -EKEYREJECTED;
	} else {
		err = rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : rc == CURLE_COULDNT_RESOLVE_HOST ? -EHOSTUNREACH : -EIO;
		pr_debug("canary: GET %s: %s", url, curl.strerror(rc));
	}
out:
	curl.cleanup(h);
	return err;
}

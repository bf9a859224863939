/* canary_https.c - GetUrl over https: one GET through libcurl (OpenSSL), the server's
 * certificate verified against the system's CA store, or against the one CA file the agent
 * was told to trust instead (--get-url-ca-file). Verification is never switched off: a
 * server vigil cannot verify gets no request, and the failure is counted and logged. */
#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "canary_internal.h"
#include "common/common.h"

#define BODY_MAX (64 * 1024)	/* read at most this much of an answer, then hang up */

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
	h = curl_easy_init();
	if (!h)
		return -ENOMEM;
	/* https only, no redirects (a redirect could lead anywhere, http included); the
	 * worker thread owns no signal handlers: no SIGALRM for name lookups */
	rc = curl_easy_setopt(h, CURLOPT_URL, url);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (rc == CURLE_OK && ca_file)
		rc = curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_USERAGENT, "vigil");
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	if (rc != CURLE_OK) {
		err = -EINVAL;
		goto out;
	}
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	/* an answer came back (a status line): the GET was made, whatever the body did */
	if (status > 0)
		goto out;
	if (tls_verification(rc)) {
		pr_warn("canary: GET %s: the server's certificate did not verify (%s): no request made", url,
			curl_easy_strerror(rc));
		err = -EKEYREJECTED;
	} else {
		err = rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : rc == CURLE_COULDNT_RESOLVE_HOST ? -EHOSTUNREACH : -EIO;
		pr_debug("canary: GET %s: %s", url, curl_easy_strerror(rc));
	}
out:
	curl_easy_cleanup(h);
	return err;
}

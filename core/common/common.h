/* common.h - what every part of libvigil shares: export marks, logging, growable buffers. */
#ifndef VIGIL_COMMON_H
#define VIGIL_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Symbols are hidden by default; only VIGIL_API ones leave libvigil.so (see libvigil.map). */
#define VIGIL_API __attribute__((visibility("default")))

#define VIGIL_VERSION "0.1.0"

#define VIGIL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- logging: the library never prints; the host installs a print callback ---- */

enum vigil_log_level {
	VIGIL_LOG_WARN,
	VIGIL_LOG_INFO,
	VIGIL_LOG_DEBUG,
};

typedef void (*vigil_print_fn)(enum vigil_log_level level, const char *fmt, va_list ap);

/* Install the print callback; NULL silences the library. Returns the previous one. */
VIGIL_API vigil_print_fn vigil_set_print(vigil_print_fn fn);

/* The default callback: messages up to its level (info unless set) to stderr. */
VIGIL_API void vigil_print_stderr(enum vigil_log_level level, const char *fmt, va_list ap);
/* The default callback's level: enabled sets debug, else info. */
VIGIL_API void vigil_print_set_debug(int enabled);
/* Set or read the default callback's level (any thread, at run time: vigil loglevel). */
VIGIL_API void vigil_print_set_level(enum vigil_log_level level);
VIGIL_API enum vigil_log_level vigil_print_level(void);

void vigil_log(enum vigil_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_warn(fmt, ...)  vigil_log(VIGIL_LOG_WARN, "vigil: " fmt "\n", ##__VA_ARGS__)
#define pr_info(fmt, ...)  vigil_log(VIGIL_LOG_INFO, "vigil: " fmt "\n", ##__VA_ARGS__)
#define pr_debug(fmt, ...) vigil_log(VIGIL_LOG_DEBUG, "vigil: " fmt "\n", ##__VA_ARGS__)

/* ---- vigil_buf: a growable byte buffer, always NUL-terminated after len ---- */

struct vigil_buf {
	char *data;	/* owned; NULL until the first append */
	size_t len;
	size_t cap;
};

/* Append bytes. Returns 0 or -ENOMEM (the buffer is unchanged on failure). */
VIGIL_API int vigil_buf_append(struct vigil_buf *b, const void *data, size_t len);
VIGIL_API int vigil_buf_puts(struct vigil_buf *b, const char *s);
VIGIL_API int vigil_buf_printf(struct vigil_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Forget the contents, keep the memory. */
VIGIL_API void vigil_buf_reset(struct vigil_buf *b);
/* Release the memory; the buffer is empty and reusable afterwards. */
VIGIL_API void vigil_buf_free(struct vigil_buf *b);

/* ---- small validated parsers for CLI values (reject trailing junk and range errors) ---- */

/* Parse a decimal integer in [min, max]. Returns 0 or -EINVAL / -ERANGE. */
VIGIL_API int vigil_parse_long(const char *s, long min, long max, long *out);
/* A Go-style duration ("90s", "5m", "1h30m", "500ms") or plain seconds, into ns; at most
 * ten years. Returns 0 or -EINVAL / -ERANGE. */
VIGIL_API int vigil_parse_duration(const char *s, uint64_t *out);

/* ---- base64 (standard alphabet, '=' padding) ---- */

/* Encode n bytes into out, which must hold 4 * ((n + 2) / 3) + 1 bytes; NUL-terminated.
 * Returns the length written. */
VIGIL_API size_t vigil_base64_encode(const void *in, size_t n, char *out);
/* Decode up to n characters of in (stopping at '=' or n) into out (size bytes). Returns the
 * bytes written, or -EINVAL for a character outside the alphabet or more than size bytes. */
VIGIL_API int vigil_base64_decode(const char *in, size_t n, void *out, size_t size);

/* ---- files ---- */

struct iovec;
/* Write iov to tmp (created with mode, truncated), then rename it over path, so a reader or
 * a crash sees the old file or the new one whole. tmp must be on path's file system. On
 * error tmp is removed and path untouched. Returns 0 or -errno (-ENOSPC for a short write). */
VIGIL_API int vigil_file_replace(const char *tmp, const char *path, unsigned int mode, const struct iovec *iov,
				 int iovcnt);

/* ---- time ---- */

/* CLOCK_REALTIME ns minus CLOCK_BOOTTIME ns, measured once; add to a BPF boot-time stamp
 * (bpf_ktime_get_boot_ns) to get wall-clock ns. */
VIGIL_API int64_t vigil_boot_to_wall_offset(void);

/* Format wall-clock ns as protojson does: RFC 3339 UTC with 0, 3, 6 or 9 fractional digits
 * (trailing zero groups dropped). out must hold 40 bytes. */
VIGIL_API void vigil_format_time(uint64_t wall_ns, char out[40]);
/* The inverse of vigil_format_time: a UTC RFC 3339 time with "Z" and 0 to 9 fractional
 * digits (n bytes at s, no terminator needed) to nanoseconds since the epoch. Anything else
 * (another offset, a date before 1970, 31 February) is -EINVAL. */
VIGIL_API int vigil_parse_time(const char *s, size_t n, uint64_t *wall_ns);
/* trust.c: whether only the agent's own side (root, the agent's user, the owner of its binary)
 * can change a directory or file it takes orders from; a read-only mount is trusted whatever
 * its mode. Each returns 0, or -errno with why ("<what> <path> is writable by others ..."). */
/* path must be a directory */
int vigil_trust_dir(const char *what, const char *dir, char *why, size_t size);
/* path's whole content (symlinks followed, opened without blocking: a FIFO is refused, not
 * waited on), when it is a regular file of at most max bytes that only the agent's side can
 * change, and so is the directory it resolves into. *out is NUL-terminated; the caller frees it. */
int vigil_trust_read(const char *what, const char *path, size_t max, char **out, size_t *len, char *why,
		     size_t size);

/* Its seconds, fraction and "Z" alone (s[16] on: ":SS[.fff]Z"), as nanoseconds into the
 * minute: for readers that convert the date and minute once for many times. -EINVAL as above. */
VIGIL_API int vigil_parse_time_in_minute(const char *s, size_t n, uint64_t *ns);

#endif

/* log.h - vigil-forward's own messages: one line each on stderr, named for the daemon. */
#ifndef FWD_LOG_H
#define FWD_LOG_H

#include <stdbool.h>

enum fwd_log_level { FWD_WARN, FWD_INFO, FWD_DEBUG };

/* Debug lines are printed only after fwd_log_verbose(true). */
void fwd_log_verbose(bool on);
void fwd_log(enum fwd_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define fwd_warn(fmt, ...)  fwd_log(FWD_WARN, fmt, ##__VA_ARGS__)
#define fwd_info(fmt, ...)  fwd_log(FWD_INFO, fmt, ##__VA_ARGS__)
#define fwd_debug(fmt, ...) fwd_log(FWD_DEBUG, fmt, ##__VA_ARGS__)

#endif

/* log.h - the extension's messages: to stderr, where osqueryd collects its workers'
 * output; debug only with --verbose (which osquery passes on when it runs verbose). */
#ifndef OSQ_LOG_H
#define OSQ_LOG_H

#include <stdbool.h>

extern bool log_verbose;

void log_print(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_warn(fmt, ...) log_print("warning", fmt, ##__VA_ARGS__)
#define log_info(fmt, ...) log_print("info", fmt, ##__VA_ARGS__)
#define log_debug(fmt, ...) \
	do { \
		if (log_verbose) \
			log_print("debug", fmt, ##__VA_ARGS__); \
	} while (0)

#endif

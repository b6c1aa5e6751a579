/* log.h - leveled error log on stderr. Every function keeps errno intact so a
 * log call between a syscall and its errno check cannot change the cause. */
#ifndef SHS_LOG_H
#define SHS_LOG_H

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void log_set_level(enum log_level level);

/* Sends the error log to path (appending) instead of stderr, by dup2 onto
 * fd 2 so that anything else written to stderr lands there too. Called again
 * after a rotation. Returns 0 or -errno. */
int log_reopen(const char *path);
int log_enabled(enum log_level level);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
